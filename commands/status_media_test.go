package commands

import (
	"errors"
	"strings"
	"testing"
	"time"

	"adharvest/job"
	"adharvest/media"
)

// The media line of status, for every way a folder's creatives can stand.
func TestStatusMediaLine(t *testing.T) {
	withMedia := job.Job{Datasets: []string{job.Ads, job.Media}}
	without := job.Job{Datasets: []string{job.Ads}}
	for _, tc := range []struct {
		name string
		j    job.Job
		s    media.Summary
		err  error
		want []string // lines, each a substring of its line; none: no output
	}{
		{name: "no creative linked", j: withMedia, s: media.Summary{}},
		{name: "never fetched", j: without, s: media.Summary{URLs: 900, Pending: 880, Expired: 20},
			want: []string{"", "media     not archived: the tables link to 900 creative files (20 of their links have expired already); signed links expire within days: run `adharvest media --out 'my dir'` to download them"}},
		{name: "never fetched, every link expired", j: without, s: media.Summary{URLs: 9, Expired: 9},
			want: []string{"", "media     not archived: the tables link to 9 creative files, and every link has expired already; a harvest with --datasets ...,media fetches them while they are fresh"}},
		{name: "all settled", j: withMedia, s: media.Summary{URLs: 10, OK: 7, Expired: 1, Removed: 1, TooLarge: 1, Files: 6, Bytes: 3 << 20},
			want: []string{"", "media     7 of 10 linked files archived (3.0 MiB in 6 files); 1 expired, 1 removed, 1 too large, 0 failed, 0 not tried yet"}},
		{name: "owed", j: withMedia, s: media.Summary{URLs: 10, OK: 5, Failed: 2, Pending: 3, Files: 5, Bytes: 2048},
			want: []string{"", "media     5 of 10 linked files archived (2.0 KiB in 5 files); 0 expired, 0 removed, 0 too large, 2 failed, 3 not tried yet",
				"          5 still owed (2 failed, 3 not tried yet): run `adharvest media --out 'my dir'` to fetch them"}},
		{name: "fetched by adharvest media, without the dataset", j: without, s: media.Summary{URLs: 4, OK: 1, Pending: 3, Files: 1, Bytes: 10},
			want: []string{"", "media     1 of 4 linked files archived", "          3 still owed (0 failed, 3 not tried yet)"}},
		{name: "live", j: withMedia, s: media.Summary{URLs: 2, OK: 2, Files: 2, Live: true, AsOf: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)},
			want: []string{"", "media     2 of 2 linked files archived", "          as the media tables were last written (2024-03-01T12:00:00Z)"}},
		{name: "unreadable", j: withMedia, err: errors.New("media_links: bad\nparquet"),
			want: []string{"", "media     unknown: media_links: bad parquet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeMedia(&b, "my dir", tc.j, tc.s, tc.err)
			if len(tc.want) == 0 {
				if b.Len() != 0 {
					t.Fatalf("printed %q, want nothing", b.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tc.want), b.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) || (w == "" && lines[i] != "") {
					t.Errorf("line %d is %q, want %q", i, lines[i], w)
				}
			}
		})
	}
}

package commands

import (
	"fmt"
	"io"
	"time"

	"adharvest/job"
	"adharvest/media"
)

// printMedia is status's media line: how the creatives the tables link to
// stand (archived, expired, removed, too large, failed, not tried yet), and
// the command that fetches what is owed. A folder whose tables link to no
// creative gets no line; one whose creatives were never fetched (harvested
// without the media dataset, and no `adharvest media` since) gets one line
// saying so.
func printMedia(w io.Writer, out string, j job.Job) {
	s, err := media.ReadSummary(out)
	writeMedia(w, out, j, s, err)
}

// writeMedia is printMedia's line for the summary s (or the error err that
// reading it returned).
func writeMedia(w io.Writer, out string, j job.Job, s media.Summary, err error) {
	fetch := "adharvest media --out " + shellQuote(out)
	switch {
	case err != nil:
		fmt.Fprintf(w, "\nmedia     unknown: %s\n", oneLine(err.Error()))
		return
	case s.URLs == 0:
		return
	case !j.Has(job.Media) && s.OK+s.Removed+s.TooLarge+s.Failed == 0 && s.Expired == s.URLs:
		fmt.Fprintf(w, "\nmedia     not archived: the tables link to %d creative files, and every link has expired already; a harvest with --datasets ...,media fetches them while they are fresh\n", s.URLs)
		return
	case !j.Has(job.Media) && s.OK+s.Removed+s.TooLarge+s.Failed == 0:
		expired := ""
		if s.Expired > 0 {
			expired = fmt.Sprintf(" (%d of their links have expired already)", s.Expired)
		}
		fmt.Fprintf(w, "\nmedia     not archived: the tables link to %d creative files%s; signed links expire within days: run `%s` to download them\n", s.URLs, expired, fetch)
		return
	}
	fmt.Fprintf(w, "\nmedia     %s\n", s)
	if s.Live {
		fmt.Fprintf(w, "          as the media tables were last written (%s); a media run may be going on\n", s.AsOf.Format(time.RFC3339))
	}
	if n := s.Owed(); n > 0 {
		fmt.Fprintf(w, "          %d still owed (%d failed, %d not tried yet): run `%s` to fetch them\n", n, s.Failed, s.Pending, fetch)
	}
}

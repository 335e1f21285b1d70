package sink

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"adharvest/internal/buildinfo"

	"github.com/parquet-go/parquet-go"
)

// Table describes one dataset's folder under the output directory: its name (the
// DuckDB view name too), its Hive partition key (empty when the folder is flat),
// the columns that identify one logical row, and its Parquet schema.
type Table struct {
	Name      string
	Partition string
	Key       []string
	Schema    *parquet.Schema
	// Owner names the table whose shards write this table's files; child
	// tables are written in the same flush as their parent and share its part
	// numbers. Empty means the table owns itself.
	Owner string
	// Derived tables are written whole from the checkpoint at the end of a
	// run (one file, replaced each time), not by shards: no part of theirs
	// is registered, swept or repaired.
	Derived bool
}

// SchemaVersion is written into every file's metadata. Bump it when a column
// changes meaning, so that old and new files can be told apart.
const SchemaVersion = "2"

// The tables. Keys are what the DuckDB views deduplicate on.
var (
	Ads               = Table{Name: "ads", Partition: "country_code", Key: []string{"ad_id", "country_code"}, Schema: parquet.SchemaOf(AdRow{})}
	AdDetails         = Table{Name: "ad_details", Key: []string{"ad_id"}, Schema: parquet.SchemaOf(AdDetailRow{})}
	AdReach           = Table{Name: "ad_detail_reach_by_country", Key: []string{"ad_id", "country_code"}, Schema: parquet.SchemaOf(AdReachRow{}), Owner: "ad_details"}
	AdTargetCountries = Table{Name: "ad_detail_target_countries", Key: []string{"ad_id", "country_code"}, Schema: parquet.SchemaOf(AdTargetCountryRow{}), Owner: "ad_details"}
	AdTargetAges      = Table{Name: "ad_detail_target_ages", Key: []string{"ad_id", "value"}, Schema: parquet.SchemaOf(AdTargetFlagRow{}), Owner: "ad_details"}
	AdTargetGenders   = Table{Name: "ad_detail_target_genders", Key: []string{"ad_id", "value"}, Schema: parquet.SchemaOf(AdTargetFlagRow{}), Owner: "ad_details"}
	AdReports         = Table{Name: "ad_reports", Partition: "query_country", Key: []string{"query_country", "country_code", "date"}, Schema: parquet.SchemaOf(AdReportRow{})}
	CommercialContent = Table{Name: "commercial_content", Partition: "country_code", Key: []string{"content_id", "country_code"}, Schema: parquet.SchemaOf(CommercialContentRow{})}
	Advertisers       = Table{Name: "advertisers", Key: []string{"business_id", "search_term"}, Schema: parquet.SchemaOf(AdvertiserRow{})}
	// Rejects holds the items the API sent that could not be decoded, one row
	// per item, written with the part of the page they came in (so every
	// dataset owns rejects of its own: see folder.Part).
	// Coverage is the completeness audit: one row per slice, what ad/report
	// counts in it against what the harvest found (see package crawl).
	Coverage = Table{Name: "coverage", Key: []string{"slice_id"}, Schema: parquet.SchemaOf(CoverageRow{}), Derived: true}
	Rejects  = Table{Name: "rejects", Key: []string{"shard_id", "item_json"}, Schema: parquet.SchemaOf(RejectRow{}), Owner: "*"}
	// Media is the archive of creatives, one row per distinct URL, and
	// MediaLinks links each ad and post to its URLs; package media rewrites
	// both whole at the end of every run (see folder.MediaStore).
	Media      = Table{Name: "media", Key: []string{"url"}, Schema: parquet.SchemaOf(MediaRow{}), Derived: true}
	MediaLinks = Table{Name: "media_links", Key: []string{"source_table", "ad_id", "content_id", "country_code", "url"}, Schema: parquet.SchemaOf(MediaLinkRow{}), Derived: true}
)

// Tables lists every table in the order the README documents them.
var Tables = []Table{Ads, AdDetails, AdReach, AdTargetCountries, AdTargetAges, AdTargetGenders, AdReports, CommercialContent, Advertisers, Rejects, Coverage, AdObservations, Media, MediaLinks}

// OwnerName is the table whose shard ids name this table's files. It is "*"
// for a table every dataset writes (Rejects).
func (t Table) OwnerName() string {
	if t.Owner != "" {
		return t.Owner
	}
	return t.Name
}

// OwnedBy reports whether the shards of table owner write files of t.
func (t Table) OwnedBy(owner string) bool {
	return t.OwnerName() == owner || t.Owner == "*"
}

// Lookup returns the table with the given name.
func Lookup(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// writerOptions are every Parquet file's: zstd, the schema version, and
// created_by naming the build that wrote it ("adharvest version v1.2.3
// (build 57b527b510bc)", see package buildinfo). parquet.CreatedBy would
// write "version v1.2.3(build …)", without the space the format's readers
// expect, hence the config.
func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(zstdCodec),
		parquet.KeyValueMetadata("adharvest.schema_version", SchemaVersion),
		&parquet.WriterConfig{CreatedBy: buildinfo.Read().CreatedBy("adharvest")},
	}
}

// WriteParquet writes rows to path atomically, zstd-compressed.
func WriteParquet[T any](path string, rows []T) error {
	_, err := WriteParquetSum(path, rows)
	return err
}

// WriteParquetSum is WriteParquet that returns the file's size and SHA-256.
func WriteParquetSum[T any](path string, rows []T) (Sum, error) {
	return WriteFileAtomicSum(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[T](w, writerOptions()...)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
}

// ParquetRows reads a Parquet file's footer and returns its row count and
// schema version (adharvest.schema_version), without reading the rows.
func ParquetRows(path string) (rows int64, schema string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		return 0, "", err
	}
	schema, _ = pf.Lookup("adharvest.schema_version")
	return pf.NumRows(), schema, nil
}

// WriteEmpty writes a file with the table's schema and no rows. The DuckDB views
// use one when a dataset has no data yet, so that queries see typed, empty tables
// instead of "no files found".
func (t Table) WriteEmpty(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	pw := parquet.NewWriter(f, append(writerOptions(), t.Schema)...)
	if err := pw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("empty %s file: %w", t.Name, err)
	}
	return f.Close()
}

// ReadParquet reads every row of a Parquet file into T, whose parquet tags
// may name a subset of the file's columns.
func ReadParquet[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, pf.NumRows())
	n, err := r.Read(rows)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows[:n], nil
}

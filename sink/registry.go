package sink

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Table describes one dataset's folder under the output directory: its name (the
// DuckDB view name too), its Hive partition key (empty when the folder is flat),
// the columns that identify one logical row, and its Parquet schema.
type Table struct {
	Name      string
	Partition string
	Key       []string
	Schema    *parquet.Schema
}

// SchemaVersion is written into every file's metadata. Bump it when a column
// changes meaning, so that old and new files can be told apart.
const SchemaVersion = "1"

// Ads is the ads table: ad/query results, partitioned by the country searched.
var Ads = Table{Name: "ads", Partition: "country_code", Key: []string{"ad_id", "country_code"}, Schema: parquet.SchemaOf(AdRow{})}

// Tables lists every table in the order the README documents them.
var Tables = []Table{Ads}

// Lookup returns the table with the given name.
func Lookup(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Dir is the table's folder under out.
func (t Table) Dir(out string) string { return filepath.Join(out, t.Name) }

// PartitionDir is the folder for one partition value ("country_code=FR"), or the
// table folder when the table is not partitioned.
func (t Table) PartitionDir(out, value string) string {
	if t.Partition == "" {
		return t.Dir(out)
	}
	return filepath.Join(t.Dir(out), t.Partition+"="+value)
}

// Glob is the pattern that matches exactly the table's committed data files.
// Temporary files start with TempPrefix and end in a random suffix, so they
// never match.
func (t Table) Glob(out string) string {
	if t.Partition == "" {
		return filepath.Join(t.Dir(out), "*.parquet")
	}
	return filepath.Join(t.Dir(out), t.Partition+"=*", "*.parquet")
}

func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{}),
		parquet.KeyValueMetadata("adharvest.schema_version", SchemaVersion),
		parquet.CreatedBy("adharvest", "", ""),
	}
}

// WriteParquet writes rows to path atomically, zstd-compressed.
func WriteParquet[T any](path string, rows []T) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[T](w, writerOptions()...)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
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

package harvest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"

	"adharvest/checkpoint"
	"adharvest/harvest/api"
	"adharvest/sink"
)

// dataset knows how to ask one endpoint and how to turn its pages into rows.
type dataset struct {
	name     string
	table    sink.Table
	endpoint string
	fields   []string
	// paged datasets follow search_id/has_more; the others are one request per shard.
	paged bool
	// page reads a response's data: its item count and paging fields.
	page func(data json.RawMessage) (items int, pg api.Page, err error)
	// write decodes pages into rows and writes them to path (nothing when there
	// are no rows), returning the rows written.
	write func(path string, sh *Shard, pages []checkpoint.Page) (int64, error)
}

// Shard is one planned unit of work: a dataset, a partition (country), a date
// window and a term. Its ID is stable across runs and names its files.
type Shard struct {
	ID         string
	Dataset    string
	Partition  string // Hive partition value, e.g. "FR"
	Stem       string // file name stem, e.g. "20240101-20240107_all"
	Term       string
	SearchType string
	Window     Window
	ds         *dataset
	// request builds the request body for a page; searchID is "" for the first.
	request func(searchID string) any
	reqHash string
}

// Plan splits a normalized job into shards, in the order they run: dataset by
// dataset, then window, country and term.
func Plan(job Job) []*Shard {
	var out []*Shard
	for _, d := range job.Datasets {
		switch d {
		case DatasetAds:
			out = append(out, planAds(job)...)
		}
	}
	return out
}

func newShard(ds *dataset, partition string, w Window, term, searchType string, key string, req func(string) any) *Shard {
	stem := w.Label() + "_" + key
	sh := &Shard{
		Dataset: ds.name, Partition: partition, Stem: stem, Term: term, SearchType: searchType,
		Window: w, ds: ds, request: req,
	}
	sh.ID = shardID(ds.table, partition, stem)
	b, _ := json.Marshal(req(""))
	h := sha256.Sum256(append([]byte(ds.endpoint+"\x00"), b...))
	sh.reqHash = hex.EncodeToString(h[:8])
	return sh
}

func shardID(t sink.Table, partition, stem string) string {
	if t.Partition == "" {
		return t.Name + "/" + stem
	}
	return t.Name + "/" + partition + "/" + stem
}

// partPath is where part n of a shard's rows lives.
func (sh *Shard) partPath(out string, n int) string {
	return filepath.Join(sh.ds.table.PartitionDir(out, sh.Partition), partName(sh.Stem, n, ".parquet"))
}

// rawPath is where part n of a shard's raw responses lives.
func (sh *Shard) rawPath(out string, n int) string {
	return filepath.Join(rawDir(out, sh.ds.table, sh.Partition), partName(sh.Stem, n, ".jsonl.zst"))
}

func rawDir(out string, t sink.Table, partition string) string {
	return t.PartitionDir(filepath.Join(out, "raw"), partition)
}

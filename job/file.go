package job

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// jobFile is the on-disk form of a job (YAML or TOML). Query fields at the top
// level are defaults for every entry of queries; without a queries list they
// form the job's only query.
type jobFile struct {
	Datasets  StringList `yaml:"datasets" toml:"datasets"`
	Window    string     `yaml:"window" toml:"window"`
	SliceAds  int        `yaml:"slice_ads" toml:"slice_ads"`
	MaxCount  int        `yaml:"max_count" toml:"max_count"`
	fileQuery `yaml:",inline"`
	Queries   []fileQuery `yaml:"queries" toml:"queries"`
}

type fileQuery struct {
	Countries        StringList `yaml:"countries" toml:"countries"`
	From             string     `yaml:"from" toml:"from"`
	To               string     `yaml:"to" toml:"to"`
	Terms            []string   `yaml:"terms" toml:"terms"`
	SearchType       string     `yaml:"search_type" toml:"search_type"`
	AdvertiserIDs    []string   `yaml:"advertiser_ids" toml:"advertiser_ids"`
	CreatorUsernames []string   `yaml:"creator_usernames" toml:"creator_usernames"`
	ReachMin         string     `yaml:"reach_min" toml:"reach_min"`
	ReachMax         string     `yaml:"reach_max" toml:"reach_max"`
}

// StringList accepts a list or one comma-separated string ("EEA", "FR,DE").
type StringList []string

func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = SplitList(n.Value)
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

func (s *StringList) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*s = SplitList(x)
	case []any:
		for _, e := range x {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("list holds %v, not text", e)
			}
			*s = append(*s, str)
		}
	default:
		return fmt.Errorf("expected text or a list of text, got %T", v)
	}
	return nil
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LoadFile reads a job file: .yaml/.yml or .toml by extension. Unknown keys
// are an error, because a misspelt filter that is silently ignored would
// harvest the wrong data.
func LoadFile(path string) (Job, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Job{}, &FileError{Path: path, Msg: errors.Unwrap(err).Error()}
	}
	j, err := ParseFile(filepath.Ext(path), b)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return j, err
}

// ParseFile parses job file content; ext selects the format.
func ParseFile(ext string, b []byte) (Job, error) {
	var f jobFile
	switch strings.ToLower(ext) {
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return Job{}, &FileError{Msg: yamlMessage(err)}
		}
	case ".toml":
		md, err := toml.Decode(string(b), &f)
		if err != nil {
			return Job{}, &FileError{Msg: oneLine(err.Error())}
		}
		if un := md.Undecoded(); len(un) > 0 {
			return Job{}, &FileError{Msg: unknownKey(un[0].String())}
		}
	default:
		return Job{}, &FileError{Msg: fmt.Sprintf("%q is neither .yaml, .yml nor .toml", ext)}
	}
	job := Job{Datasets: f.Datasets, MaxCount: f.MaxCount, SliceAds: f.SliceAds}
	if f.Window != "" {
		days, err := ParseWindow(f.Window)
		if err != nil {
			return Job{}, err
		}
		job.WindowDays = days
	}
	entries := f.Queries
	if len(entries) == 0 {
		entries = []fileQuery{{}}
	}
	for i, e := range entries {
		q, err := e.withDefaults(f.fileQuery).query()
		if err != nil {
			if fe, ok := err.(*FieldError); ok && len(f.Queries) > 0 {
				fe.Query = i + 1
			}
			return Job{}, err
		}
		job.Queries = append(job.Queries, q)
	}
	return job, nil
}

func (e fileQuery) withDefaults(d fileQuery) fileQuery {
	if len(e.Countries) == 0 {
		e.Countries = d.Countries
	}
	if e.From == "" {
		e.From = d.From
	}
	if e.To == "" {
		e.To = d.To
	}
	if len(e.Terms) == 0 {
		e.Terms = d.Terms
	}
	if e.SearchType == "" {
		e.SearchType = d.SearchType
	}
	if len(e.AdvertiserIDs) == 0 {
		e.AdvertiserIDs = d.AdvertiserIDs
	}
	if len(e.CreatorUsernames) == 0 {
		e.CreatorUsernames = d.CreatorUsernames
	}
	if e.ReachMin == "" {
		e.ReachMin = d.ReachMin
	}
	if e.ReachMax == "" {
		e.ReachMax = d.ReachMax
	}
	return e
}

func (e fileQuery) query() (Query, error) {
	q := Query{Countries: e.Countries, From: e.From, To: e.To, Terms: e.Terms, SearchType: e.SearchType,
		CreatorUsernames: e.CreatorUsernames, ReachMin: e.ReachMin, ReachMax: e.ReachMax}
	// Ids are read as text so that 19-digit ids never pass through a float.
	for _, s := range e.AdvertiserIDs {
		id, err := ParseAdvertiserID(s)
		if err != nil {
			return q, &FieldError{Field: "advertiser_ids", Msg: err.Error()}
		}
		q.AdvertiserIDs = append(q.AdvertiserIDs, id)
	}
	return q, nil
}

// ParseAdvertiserID reads a business id exactly.
func ParseAdvertiserID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("advertiser id %q is not a positive 64-bit integer", s)
	}
	return id, nil
}

// ParseWindow reads a window length: 7, 7d or 2w.
func ParseWindow(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(s, "w"):
		mult, s = 7, strings.TrimSuffix(s, "w")
	case strings.HasSuffix(s, "d"):
		s = strings.TrimSuffix(s, "d")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fieldErr("window", "%q is not a number of days like 7, 7d or 2w", s)
	}
	return n * mult, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unknownKey names a key that is not part of a job file, with the valid ones.
func unknownKey(key string) string {
	return fmt.Sprintf("unknown key %q; known keys are %s and the query keys %s", key, strings.Join(JobKeys, ", "), strings.Join(QueryKeys, ", "))
}

// yamlField matches yaml.v3's message for a key the target struct lacks:
// "line 3: field country not found in type job.fileQuery".
var yamlField = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// yamlMessage rewrites yaml.v3's errors, which name Go types, in the job
// file's terms.
func yamlMessage(err error) string {
	msg := oneLine(err.Error())
	if m := yamlField.FindStringSubmatch(msg); m != nil {
		return "line " + m[1] + ": " + unknownKey(m[2])
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

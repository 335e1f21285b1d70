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
	"time"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// jobFile is the on-disk form of a job (YAML or TOML). Query fields at the top
// level are defaults for every entry of queries; without a queries list they
// form the job's only query.
type jobFile struct {
	Window    text `yaml:"window" toml:"window"`
	SliceAds  int  `yaml:"slice_ads" toml:"slice_ads"`
	MaxCount  int  `yaml:"max_count" toml:"max_count"`
	fileQuery `yaml:",inline"`
	Queries   []fileQuery `yaml:"queries" toml:"queries"`
}

type fileQuery struct {
	// Datasets at the top are the job's; under a query, that query's own
	// (not inherited: a query without them fetches the job's).
	Datasets         StringList `yaml:"datasets" toml:"datasets"`
	Countries        StringList `yaml:"countries" toml:"countries"`
	From             day        `yaml:"from" toml:"from"`
	To               day        `yaml:"to" toml:"to"`
	Terms            []string   `yaml:"terms" toml:"terms"`
	SearchType       string     `yaml:"search_type" toml:"search_type"`
	AdvertiserIDs    idList     `yaml:"advertiser_ids" toml:"advertiser_ids"`
	CreatorUsernames []string   `yaml:"creator_usernames" toml:"creator_usernames"`
	ReachMin         text       `yaml:"reach_min" toml:"reach_min"`
	ReachMax         text       `yaml:"reach_max" toml:"reach_max"`
}

// day is a date as a job file writes it: text ("2024-05-01", "20240501"),
// or TOML's own date (from = 2024-05-01). Normalize checks it.
type day string

func (d *day) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*d = day(x)
	case int64: // from = 20240501
		*d = day(strconv.FormatInt(x, 10))
	case time.Time:
		// A local date (no time, no offset) comes in a zone of that name.
		if x.Location().String() != "date-local" {
			return fmt.Errorf("%s is a date and time; give the day alone, e.g. 2024-05-01", x.Format(time.RFC3339))
		}
		*d = day(x.Format("2006-01-02"))
	default:
		return fmt.Errorf("%s is not a date; write it as 2024-05-01", tomlKind(v))
	}
	return nil
}

// text is a value that TOML may write as a number or as text (window = 7,
// reach_min = "10K"); YAML hands numbers to text as they are written.
type text string

func (t *text) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*t = text(x)
	case int64:
		*t = text(strconv.FormatInt(x, 10))
	default:
		return fmt.Errorf("%s is not text or a whole number", tomlKind(v))
	}
	return nil
}

// idList is advertiser ids: a list (or one id) of numbers or quoted text,
// read exactly. A TOML integer is an int64 already; YAML hands over the
// digits as written, so ids beyond 2^53 never pass through a float.
type idList []string

func (l *idList) UnmarshalTOML(v any) error {
	one := func(e any) error {
		switch x := e.(type) {
		case int64:
			*l = append(*l, strconv.FormatInt(x, 10))
		case string:
			*l = append(*l, SplitList(x)...)
		case float64:
			return fmt.Errorf("advertiser id %v is not a whole number", x)
		default:
			return fmt.Errorf("%s is not an advertiser id", tomlKind(e))
		}
		return nil
	}
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if err := one(e); err != nil {
				return err
			}
		}
		return nil
	}
	return one(v)
}

func (l *idList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = SplitList(n.Value)
		return nil
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: advertiser_ids holds %s, not ids", e.Line, yamlKind(e))
			}
			*l = append(*l, e.Value) // the digits as written, never a float
		}
		return nil
	}
	return fmt.Errorf("line %d: advertiser_ids is %s, not a list of ids", n.Line, yamlKind(n))
}

// tomlKind names the kind of a TOML value in the job file's terms.
func tomlKind(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("text %q", x)
	case int64:
		return fmt.Sprintf("the number %d", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case time.Time:
		return "a date"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%v", v)
}

// yamlKind names the kind of a YAML node in the job file's terms.
func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a map of keys"
	}
	return fmt.Sprintf("%q", n.Value)
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
				return fmt.Errorf("the list holds %s, not text", tomlKind(e))
			}
			*s = append(*s, str)
		}
	default:
		return fmt.Errorf("%s is not text or a list of text", tomlKind(v))
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
			return Job{}, &FileError{Msg: yamlMessage(err, b)}
		}
	case ".toml":
		md, err := toml.Decode(string(b), &f)
		if err != nil {
			return Job{}, &FileError{Msg: tomlMessage(err)}
		}
		if un := md.Undecoded(); len(un) > 0 {
			return Job{}, &FileError{Msg: unknownKey(un[0].String())}
		}
	default:
		return Job{}, &FileError{Msg: fmt.Sprintf("%q is neither .yaml, .yml nor .toml", ext)}
	}
	job := Job{Datasets: f.fileQuery.Datasets, MaxCount: f.MaxCount, SliceAds: f.SliceAds}
	if f.Window != "" {
		days, err := ParseWindow(string(f.Window))
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
	q := Query{Datasets: e.Datasets, Countries: e.Countries, From: string(e.From), To: string(e.To), Terms: e.Terms, SearchType: e.SearchType,
		CreatorUsernames: e.CreatorUsernames, ReachMin: string(e.ReachMin), ReachMax: string(e.ReachMax)}
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

// yamlType matches yaml.v3's message for a value of the wrong kind:
// "line 3: cannot unmarshal !!str `fifty` into int".
var yamlType = regexp.MustCompile("line (\\d+): cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (\\S+)")

// goKinds names the Go types of a job file's fields in its own terms.
var goKinds = map[string]string{
	"int": "a whole number", "string": "text", "[]string": "a list of text",
	"[]job.fileQuery": "a list of queries", "job.fileQuery": "a query (keys and values)",
	"job.StringList": "text or a list of text", "job.day": "a date", "job.text": "text",
}

// yamlKinds names YAML's tags.
var yamlKinds = map[string]string{"str": "text", "int": "a number", "float": "a number", "bool": "true or false",
	"seq": "a list", "map": "keys and values", "timestamp": "a date", "null": "nothing"}

// yamlMessage rewrites yaml.v3's errors, which name Go types, in the job
// file's terms.
func yamlMessage(err error, src []byte) string {
	msg := oneLine(err.Error())
	if m := yamlField.FindStringSubmatch(msg); m != nil {
		return "line " + m[1] + ": " + unknownKey(m[2])
	}
	if m := yamlType.FindStringSubmatch(msg); m != nil {
		want, ok := goKinds[m[4]]
		if !ok {
			want = "something else"
		}
		got := yamlKinds[m[2]]
		if got == "" {
			got = m[2]
		}
		if m[3] != "" {
			got += fmt.Sprintf(" %q", m[3])
		}
		line := "line " + m[1]
		if n, err := strconv.Atoi(m[1]); err == nil {
			if key := yamlKeyAt(src, n); key != "" {
				line += ": " + key
			}
		}
		return fmt.Sprintf("%s: %s where %s is expected", line, got, want)
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return strings.TrimPrefix(msg, "unmarshal errors: ")
}

// yamlKeyAt is the key whose value starts on line of a YAML document, ""
// when none does.
func yamlKeyAt(src []byte, line int) string {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return ""
	}
	var find func(n *yaml.Node) string
	find = func(n *yaml.Node) string {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Line == line && (v.Kind == yaml.ScalarNode || k.Line == line) {
					return k.Value
				}
			}
		}
		for _, c := range n.Content {
			if key := find(c); key != "" {
				return key
			}
		}
		return ""
	}
	return find(&doc)
}

// tomlIncompatible matches BurntSushi/toml's message for a value of the
// wrong kind, and tomlAt its prefix to any other.
var (
	tomlIncompatible = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type ([^;]+); destination has type (.+)$`)
	tomlAt           = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)
)

// tomlKinds names the types BurntSushi/toml reports.
var tomlKinds = map[string]string{"string": "text", "int64": "a whole number", "float64": "a number", "bool": "true or false",
	"time.Time": "a date", "[]interface {}": "a list", "map[string]interface {}": "a table",
	"integer": "a whole number", "slice": "a list", "struct": "a table", "float": "a number"}

// tomlMessage rewrites BurntSushi/toml's errors, which name Go types, in
// the job file's terms: "line 3: max_count: text where a whole number is
// expected".
func tomlMessage(err error) string {
	msg := oneLine(err.Error())
	if m := tomlIncompatible.FindStringSubmatch(msg); m != nil {
		got, want := tomlKinds[m[3]], tomlKinds[m[4]]
		if got == "" {
			got = m[3]
		}
		if want == "" {
			want = "something else"
		}
		return fmt.Sprintf("line %s: %s: %s where %s is expected", m[1], m[2], got, want)
	}
	if m := tomlAt.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("line %s: %s: %s", m[1], m[2], m[3])
	}
	return strings.TrimPrefix(msg, "toml: ")
}

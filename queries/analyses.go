package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Canned analyses: named queries shipped with the tool, one file each under
// analyses/<name>.sql, embedded like the views. A file starts with a header of
// SQL comments that name and describe it:
//
//	-- name: top-advertisers
//	-- description: Advertisers ranked by number of ads and by summed reach.
//	--
//	-- Any further comment lines explain the columns; they stay in the SQL.
//	SELECT ...
//
// The name must equal the file name without ".sql" and be made of lower-case
// letters, digits and dashes; the description is one line. The body is one
// query (a SELECT or WITH ... SELECT) over the views only, so that it runs on
// any output folder (empty tables give an empty result, never an error) and
// can be wrapped in COPY (...) TO for Parquet output. Every analysis ends in an
// ORDER BY that makes its rows come out in the same order on every run.

//go:embed analyses/*.sql
var analysisFiles embed.FS

// Analysis is one canned query.
type Analysis struct {
	Name        string // "ads-per-country-week"
	Description string // one line
	SQL         string // the whole file, header included (comments are valid SQL)
}

var (
	analysesOnce sync.Once
	analysesList []Analysis
	analysesErr  error
)

var analysisName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Analyses returns the canned analyses sorted by name. The files are checked
// by the package tests, so a malformed one is a build-time mistake: Analyses
// panics on it rather than returning an error every caller would have to
// handle.
func Analyses() []Analysis {
	list, err := loadAnalyses()
	if err != nil {
		panic(err)
	}
	return append([]Analysis(nil), list...)
}

// LookupAnalysis returns the canned analysis called name.
func LookupAnalysis(name string) (Analysis, bool) {
	for _, a := range Analyses() {
		if a.Name == name {
			return a, true
		}
	}
	return Analysis{}, false
}

// AnalysisNames lists the names of the canned analyses, sorted.
func AnalysisNames() []string {
	list := Analyses()
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.Name
	}
	return names
}

func loadAnalyses() ([]Analysis, error) {
	analysesOnce.Do(func() {
		analysesList, analysesErr = parseAnalyses(analysisFiles)
	})
	return analysesList, analysesErr
}

// parseAnalyses reads every analyses/*.sql file of fsys.
func parseAnalyses(fsys fs.FS) ([]Analysis, error) {
	names, err := fs.Glob(fsys, "analyses/*.sql")
	if err != nil {
		return nil, err
	}
	var list []Analysis
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		a, err := parseAnalysis(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if want := strings.TrimSuffix(path.Base(n), ".sql"); a.Name != want {
			return nil, fmt.Errorf("%s: header names %q, want %q (the file name)", n, a.Name, want)
		}
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// parseAnalysis reads the "-- name:" and "-- description:" header of one file.
// Both must come in the leading block of comment lines, each once.
func parseAnalysis(text string) (Analysis, error) {
	a := Analysis{SQL: strings.TrimSpace(text) + "\n"}
	body := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "--")
		if !ok {
			body = true
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(rest), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "name":
			if a.Name != "" {
				return a, fmt.Errorf("two name lines")
			}
			a.Name = value
		case "description":
			if a.Description != "" {
				return a, fmt.Errorf("two description lines")
			}
			a.Description = value
		}
	}
	switch {
	case a.Name == "":
		return a, fmt.Errorf(`no "-- name:" header line`)
	case !analysisName.MatchString(a.Name):
		return a, fmt.Errorf("name %q: use lower-case letters, digits and dashes", a.Name)
	case a.Description == "":
		return a, fmt.Errorf(`no "-- description:" header line`)
	case !body:
		return a, fmt.Errorf("no query after the header")
	}
	if stmts := SplitStatements(a.SQL); len(stmts) != 1 {
		return a, fmt.Errorf("%d statements: an analysis is exactly one query", len(stmts))
	}
	return a, nil
}

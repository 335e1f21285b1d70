package job

import (
	"errors"
	"fmt"
	"strings"

	"adharvest/tiktok/api"
)

// FieldError is a job value that cannot be harvested. Field is the job-file key
// it belongs to ("from", "terms", "advertiser_ids", …), so that the command line
// can name the flag (--from) or the job-file key (from:) the value came from.
// Query is the 1-based query of a job of several, 0 when the value is job-wide or
// the job has one query.
type FieldError struct {
	Field string
	Query int
	Msg   string
}

func (e *FieldError) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Query > 0 {
		s = fmt.Sprintf("query %d: %s", e.Query, s)
	}
	return s
}

// FileError is a job file that cannot be read or parsed at all.
type FileError struct {
	Path string // as given; "" when parsing bytes
	Msg  string
}

func (e *FileError) Error() string {
	if e.Path == "" {
		return "job file: " + e.Msg
	}
	return "job file " + e.Path + ": " + e.Msg
}

// Keys lists the job-file keys: the job-wide ones, then the query keys.
var (
	JobKeys   = []string{"datasets", "window", "slice_ads", "max_count", "queries"}
	QueryKeys = []string{"datasets", "countries", "from", "to", "terms", "search_type", "advertiser_ids", "creator_usernames", "reach_min", "reach_max"}
)

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// apiKeys maps the field names of api.InvalidError onto job-file keys.
var apiKeys = map[string]string{"from": "from", "to": "to", "reach-min": "reach_min", "reach-max": "reach_max",
	"term": "terms", "search-type": "search_type", "max-count": "max_count"}

// fromInvalid turns a request validation error into a FieldError.
func fromInvalid(err error) error {
	var ie *api.InvalidError
	if errors.As(err, &ie) {
		key, ok := apiKeys[ie.Field]
		if !ok {
			key = strings.ReplaceAll(ie.Field, "-", "_")
		}
		return &FieldError{Field: key, Msg: ie.Msg}
	}
	return &FieldError{Msg: err.Error()}
}

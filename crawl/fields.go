package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"adharvest/checkpoint"
	"adharvest/tiktok"
	"adharvest/tiktok/api"
)

// The service returns only the fields a request names, so a field not asked
// for is data lost for good: every request names every field the endpoint
// takes, the newest ones included. A service that does not know a newer
// field refuses the whole request (400 invalid_params naming it); the crawl
// then drops that field, remembers it in the checkpoint (so that later runs
// do not pay for the probe again) and asks again. Only a field the api
// package marks Optional is ever dropped: a 400 naming any other is a real
// error.

// metaDroppedFields is the checkpoint's record of the refused fields.
const metaDroppedFields = "dropped_fields"

// fieldSet is the fields each endpoint is asked for in this folder.
type fieldSet struct {
	mu      sync.Mutex
	store   *checkpoint.Store
	dropped map[string][]string // endpoint → refused Optional fields, in order
	// asked caches each endpoint's field list: every request names it, and
	// it changes only when a field is dropped.
	asked map[string][]string
}

func loadFieldSet(store *checkpoint.Store) (*fieldSet, error) {
	fs := &fieldSet{store: store, dropped: map[string][]string{}}
	if store == nil {
		return fs, nil
	}
	d, err := DroppedFields(store)
	if err != nil {
		return nil, err
	}
	fs.dropped = d
	return fs, nil
}

// DroppedFields returns the fields the service refused so far, per endpoint
// (nil when none).
func DroppedFields(store *checkpoint.Store) (map[string][]string, error) {
	v, err := store.Meta(metaDroppedFields)
	if err != nil || len(v) == 0 {
		return map[string][]string{}, err
	}
	var d map[string][]string
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("checkpoint: dropped fields: %w", err)
	}
	return d, nil
}

func (fs *fieldSet) names(endpoint string) []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if names, ok := fs.asked[endpoint]; ok {
		return names
	}
	dropped := map[string]bool{}
	for _, f := range fs.dropped[endpoint] {
		dropped[f] = true
	}
	if fs.asked == nil {
		fs.asked = map[string][]string{}
	}
	fs.asked[endpoint] = api.FieldNames(endpoint, dropped)
	return fs.asked[endpoint]
}

// drop records that the service refused field on endpoint; false when it may
// not be dropped (not Optional) or was dropped already by another worker, in
// which case the caller only asks again.
func (fs *fieldSet) drop(endpoint, field string) (newly bool, err error) {
	if !api.IsOptionalField(endpoint, field) {
		return false, nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if slices.Contains(fs.dropped[endpoint], field) {
		return false, nil
	}
	fs.dropped[endpoint] = append(fs.dropped[endpoint], field)
	delete(fs.asked, endpoint)
	if fs.store == nil {
		return true, nil
	}
	v, _ := json.Marshal(fs.dropped)
	return true, fs.store.SetMeta(metaDroppedFields, v)
}

// refusedField returns the Optional field a 400 invalid_params names.
func refusedField(endpoint string, err error) (string, bool) {
	var ae *tiktok.APIError
	if !errors.Is(err, tiktok.ErrInvalidParams) || !errors.As(err, &ae) {
		return "", false
	}
	f, ok := api.FieldFromInvalidParams(ae.Message)
	if !ok || !api.IsOptionalField(endpoint, f) {
		return "", false
	}
	return f, true
}

// namesField reports whether a 400 invalid_params is about a field of the
// request (one the service does not take) rather than about the item asked
// for: refusing every ad's detail over it would lose them all.
func namesField(err error) bool {
	var ae *tiktok.APIError
	if !errors.As(err, &ae) {
		return false
	}
	_, ok := api.FieldFromInvalidParams(ae.Message)
	return ok
}

// callFields sends one data request with the endpoint's fields, dropping each
// newer field the service refuses and asking again.
func (c *Crawler) callFields(ctx context.Context, endpoint string, body any) (*tiktok.Response, error) {
	for range len(api.Fields(endpoint)) + 1 {
		resp, err := c.call(ctx, endpoint, c.fields.names(endpoint), body)
		f, refused := refusedField(endpoint, err)
		if !refused {
			return resp, err
		}
		newly, derr := c.fields.drop(endpoint, f)
		if derr != nil {
			return nil, derr
		}
		if newly {
			c.Logf("%s: the service does not know the field %s; asking without it from now on (status lists it)", endpoint, f)
		}
	}
	return nil, fmt.Errorf("%s: the service kept refusing fields", endpoint)
}

// SortedEndpoints lists the endpoints of a dropped-field map in order.
func SortedEndpoints(d map[string][]string) []string {
	eps := make([]string, 0, len(d))
	for ep := range d {
		eps = append(eps, ep)
	}
	sort.Strings(eps)
	return eps
}

package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// RunawayOptions say how Runaway misbehaves on ad/query.
type RunawayOptions struct {
	// Inflate, when above 0, repeats the items of every ad/query page until
	// the page holds this many, whatever max_count asked for.
	Inflate int
	// Endless answers every ad/query page that would end the result with
	// has_more true and a fresh search_id instead, repeating its items, so
	// that the chain never ends.
	Endless bool
}

// Runaway wraps a fake API's handler so that ad/query answers pages longer
// than max_count, or a search_id chain that never ends while every page holds
// items (the empty-page guard cannot catch it). Other endpoints pass through.
func Runaway(next http.Handler, o RunawayOptions) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/ad/query") {
			next.ServeHTTP(w, r)
			return
		}
		if o.Endless {
			// A search_id of ours goes back to the first page, which is
			// then answered as if more followed, forever.
			b, _ := io.ReadAll(r.Body)
			var req map[string]json.RawMessage
			if json.Unmarshal(b, &req) == nil {
				var sid string
				if json.Unmarshal(req["search_id"], &sid) == nil && strings.HasPrefix(sid, "runaway-") {
					delete(req, "search_id")
					b, _ = json.Marshal(req)
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var env struct {
			Data  map[string]json.RawMessage `json:"data"`
			Error json.RawMessage            `json:"error"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(body, &env) != nil || env.Data == nil {
			copyRecorded(w, rec)
			return
		}
		var ads []json.RawMessage
		_ = json.Unmarshal(env.Data["ads"], &ads)
		if o.Inflate > 0 && len(ads) > 0 {
			for i := 0; len(ads) < o.Inflate; i++ {
				ads = append(ads, ads[i])
			}
			env.Data["ads"], _ = json.Marshal(ads)
		}
		if o.Endless && len(ads) > 0 {
			env.Data["has_more"] = json.RawMessage("true")
			env.Data["search_id"], _ = json.Marshal(fmt.Sprintf("runaway-%d", n.Add(1)))
		}
		out, _ := json.Marshal(env)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(bytes.Clone(rec.Body.Bytes()))
}

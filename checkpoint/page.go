package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// A page's line is its record in a raw part: one JSON object per line with
// the request and the exact response,
//
//	{"endpoint":…,"request":…,"fetched_at":…,"run_id":…,"log_id":…,"response":…}
//
// and its frame is that line compressed as one zstd frame. The checkpoint
// stores a pending page as its frame, and a raw part is its pages' frames end
// to end (which zstd reads as one stream), so that a page is compressed once
// on its way to both.

// rawLine is how a line reads back.
type rawLine struct {
	Endpoint  string          `json:"endpoint"`
	Request   json.RawMessage `json:"request"`
	FetchedAt time.Time       `json:"fetched_at"`
	RunID     string          `json:"run_id"`
	LogID     string          `json:"log_id,omitempty"`
	Response  json.RawMessage `json:"response"`
}

// AppendLine appends p's line, newline included. A response is written as it
// came unless it spans lines, which one line of JSON cannot hold. The body
// was decoded before it got here, so it is valid JSON and is not checked
// again (a body that is not is written as a JSON string, never a broken
// line).
func AppendLine(dst []byte, p Page) []byte {
	dst = append(dst, `{"endpoint":`...)
	dst = appendJSON(dst, p.Endpoint)
	dst = append(dst, `,"request":`...)
	if len(p.Request) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, p.Request...)
	}
	dst = append(dst, `,"fetched_at":`...)
	dst = appendJSON(dst, p.FetchedAt)
	dst = append(dst, `,"run_id":`...)
	dst = appendJSON(dst, p.RunID)
	if p.LogID != "" {
		dst = append(dst, `,"log_id":`...)
		dst = appendJSON(dst, p.LogID)
	}
	dst = append(dst, `,"response":`...)
	body := bytes.TrimSpace(p.Body)
	switch {
	case len(body) == 0:
		body = []byte("null")
	case bytes.ContainsAny(body, "\r\n"):
		var c bytes.Buffer
		if json.Compact(&c, body) == nil {
			body = c.Bytes()
		} else {
			body = appendJSON(nil, string(body))
		}
	}
	dst = append(dst, body...)
	return append(dst, "}\n"...)
}

func appendJSON(dst []byte, v any) []byte {
	b, _ := json.Marshal(v)
	return append(dst, b...)
}

// ParseLine reads a line back into a page (its Seq is not in the line).
func ParseLine(line []byte) (Page, error) {
	var rec rawLine
	if err := json.Unmarshal(line, &rec); err != nil {
		return Page{}, err
	}
	return Page{FetchedAt: rec.FetchedAt, RunID: rec.RunID, Endpoint: rec.Endpoint, Request: rec.Request, LogID: rec.LogID, Body: rec.Response}, nil
}

// Frame compresses p's line as one zstd frame, for CommitPage and the raw part.
func (s *Store) Frame(p Page) []byte {
	return s.enc.EncodeAll(AppendLine(nil, p), nil)
}

// zstdMagic starts every zstd frame. A pending record written before frames
// starts with the length of its metadata instead, which is never this large.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// decodeRecord reads a pending record: a frame, or the older form (metadata
// length, metadata, compressed body).
func (s *Store) decodeRecord(shard string, v []byte) (Page, error) {
	if bytes.HasPrefix(v, zstdMagic) {
		line, err := s.dec.DecodeAll(v, nil)
		if err != nil {
			return Page{}, fmt.Errorf("pending page of %s: %w", shard, err)
		}
		p, err := ParseLine(line)
		if err != nil {
			return Page{}, fmt.Errorf("pending page of %s: %w", shard, err)
		}
		p.Frame = append([]byte(nil), v...)
		return p, nil
	}
	if len(v) < 4 {
		return Page{}, fmt.Errorf("pending page of %s is corrupt", shard)
	}
	n := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	if int(n) > len(v)-4 {
		return Page{}, fmt.Errorf("pending page of %s is corrupt", shard)
	}
	var p Page
	if err := json.Unmarshal(v[4:4+n], &p); err != nil {
		return Page{}, err
	}
	body, err := s.dec.DecodeAll(v[4+n:], nil)
	if err != nil {
		return Page{}, fmt.Errorf("pending page of %s: %w", shard, err)
	}
	p.Body = body
	return p, nil
}

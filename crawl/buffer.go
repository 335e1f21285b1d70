package crawl

import (
	"bytes"

	"adharvest/checkpoint"
)

// partBuf holds a shard's pages between two parts: decoded once, on arrival,
// and with their raw twin already compressed (the frames the checkpoint
// stored them as), so that writing a part neither reads the checkpoint back
// nor decodes or compresses a page again. The checkpoint holds the same pages
// durably; the buffer is only what the crawl keeps of them in memory, and a
// resumed shard rebuilds it from the checkpoint.
type partBuf struct {
	pages []fetched
	items int
	raw   bytes.Buffer
}

// add appends a committed page (with its Frame) and its decoded data; the
// body is in the frame and is not kept.
func (b *partBuf) add(p checkpoint.Page, data any, items int) {
	b.raw.Write(p.Frame)
	p.Body, p.Frame = nil, nil
	b.pages = append(b.pages, fetched{Page: p, data: data})
	b.items += items
}

// seqs names the pages held, for the checkpoint to drop once they are written.
func (b *partBuf) seqs() []int {
	out := make([]int, len(b.pages))
	for i, p := range b.pages {
		out[i] = p.Seq
	}
	return out
}

// rawPart is the raw twin: the pages' frames end to end, which zstd reads as
// one stream of JSON lines.
func (b *partBuf) rawPart() []byte { return b.raw.Bytes() }

// reset empties the buffer for the next part.
func (b *partBuf) reset() {
	b.pages, b.items = nil, 0
	b.raw = bytes.Buffer{}
}

package tiktok

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// redacted replaces a secret or token found in server text.
const redacted = "[REDACTED]"

// Bounds on the server text that enters an error, in bytes.
const (
	excerptLen = 120 // a body excerpt
	messageLen = 500 // an error message or description
	fieldLen   = 128 // a code or log_id
)

// scrubber removes the client secret and every token the client has held
// from text. A server (or a proxy in front of it) may echo the request in its
// error text, and the token form is the client secret, so server text is
// scrubbed before it becomes part of any error, log line or stored status.
//
// Each secret is looked for in the spellings an echo can take (raw,
// percent-encoded as in a form or a path, with upper- or lower-case escapes,
// JSON-escaped) and compared ASCII-case-insensitively, so that an echo that
// changes the case does not slip through either.
type scrubber struct {
	mu      sync.RWMutex
	needles []string // ASCII-lowered spellings, longest first
	seen    map[string]bool
}

// add registers a secret. Tokens are added as the client receives them and
// are kept for the client's life: an old token in a server's echo is still a
// credential in a log.
func (s *scrubber) add(secret string) {
	if secret == "" {
		return
	}
	j, _ := json.Marshal(secret)
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.Trim(string(j), `"`)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	// A new slice each time: scrub reads the old one without the lock.
	needles := slices.Clone(s.needles)
	for _, f := range forms {
		f = asciiLower(f)
		if !s.seen[f] {
			s.seen[f] = true
			needles = append(needles, f)
		}
	}
	// Longest first, so that a spelling containing another is replaced whole.
	slices.SortStableFunc(needles, func(a, b string) int { return len(b) - len(a) })
	s.needles = needles
}

// scrub replaces every occurrence of a secret in text by redacted.
func (s *scrubber) scrub(text string) string {
	s.mu.RLock()
	needles := s.needles
	s.mu.RUnlock()
	if len(needles) == 0 || text == "" {
		return text
	}
	low := asciiLower(text)
	// Mark each match: 1 where one starts, 2 inside one; a match overlapping
	// another joins it, adjacent ones stay apart. asciiLower keeps offsets.
	var mark []byte
	for _, n := range needles {
		for off := 0; ; {
			i := strings.Index(low[off:], n)
			if i < 0 {
				break
			}
			if mark == nil {
				mark = make([]byte, len(text))
			}
			s, e := off+i, off+i+len(n)
			if mark[s] == 0 {
				mark[s] = 1
			}
			for k := s + 1; k < e; k++ {
				mark[k] = 2
			}
			off = e
		}
	}
	if mark == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); i++ {
		switch mark[i] {
		case 0:
			b.WriteByte(text[i])
		case 1:
			b.WriteString(redacted)
		}
	}
	return b.String()
}

// trimPartial drops a tail of text that could be the start of a secret: text
// was cut from a longer one, and the rest of the secret is past the cut.
func (s *scrubber) trimPartial(text string) string {
	s.mu.RLock()
	needles := s.needles
	s.mu.RUnlock()
	low := asciiLower(text)
	trim := 0
	for _, n := range needles {
		for k := min(len(n)-1, len(low)); k > trim; k-- {
			if strings.HasSuffix(low, n[:k]) {
				trim = k
				break
			}
		}
	}
	return text[:len(text)-trim]
}

// serverText turns text a server supplied into something an error may carry:
// cut to a window before any other processing (a body can be megabytes),
// scrubbed of secrets, on one line (control characters, which could also
// drive a terminal, become spaces; runs of spaces collapse), valid UTF-8, and
// at most limit bytes, with "…" when cut.
func (s *scrubber) serverText(text string, limit int) string {
	window := 4*limit + 64
	cut := false
	if len(text) > window {
		text, cut = s.trimPartial(text[:window]), true
	}
	text = s.scrub(text)
	text = strings.ToValidUTF8(text, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range text {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := s.scrub(b.String()) // an echo split by line breaks is whole again now
	if len(out) > limit {
		end := limit
		for end > 0 && !utf8.RuneStart(out[end]) {
			end--
		}
		out, cut = out[:end], true
	}
	if cut {
		out += "…"
	}
	return out
}

// asciiLower lowers A-Z only, so that byte offsets stay put.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Scrub returns text with the client secret and every access token the client
// has held replaced by [REDACTED], in any of the spellings a server's echo can
// take. The client already scrubs every error it returns and every line it
// logs; callers scrub text of their own that may have come from a server
// before storing it.
func (c *Client) Scrub(text string) string { return c.scrub.scrub(text) }

// excerpt is the first excerptLen bytes of an unreadable body, scrubbed and on
// one line.
func (c *Client) excerpt(b []byte) string {
	window := 4*excerptLen + 64
	if len(b) > window {
		// Cut before converting: the body may be 64 MiB.
		return c.scrub.serverText(string(b[:window+1]), excerptLen)
	}
	return c.scrub.serverText(string(b), excerptLen)
}

// text is serverText for a message or a field.
func (c *Client) text(s string, limit int) string { return c.scrub.serverText(s, limit) }

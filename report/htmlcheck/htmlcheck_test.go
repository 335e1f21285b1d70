package htmlcheck

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func parse(t *testing.T, s string) *html.Node {
	n, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChecksCatchWhatTheyClaim(t *testing.T) {
	const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`
	good := `<html><head>` + csp + `</head><body><a href="#x">x</a>
<svg id="c1" role="img" aria-labelledby="t1"><title id="t1">Ads</title><desc>d</desc><rect class="mark"/></svg></body></html>`
	if p := SelfContained(parse(t, good)); len(p) != 0 {
		t.Fatalf("a clean page: %v", p)
	}
	if _, p := Charts(parse(t, good)); len(p) != 0 {
		t.Fatalf("a good chart: %v", p)
	}
	for name, page := range map[string]string{
		"script":        csp + `<script src="https://cdn.example/x.js"></script>`,
		"external link": csp + `<a href="https://example.org">x</a>`,
		"css url":       csp + `<style>body{background:url(https://x/y.png)}</style>`,
		"handler":       csp + `<div onclick="x()">x</div>`,
		"no csp":        `<p>hello</p>`,
	} {
		if p := SelfContained(parse(t, page)); len(p) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	empty := `<svg id="c2" role="img" aria-labelledby="t"><title id="t">Ads</title><desc>d</desc><g></g></svg>`
	if _, p := Charts(parse(t, empty)); len(p) != 1 || !strings.Contains(p[0], "no data mark") {
		t.Fatalf("an empty chart: %v", p)
	}
}

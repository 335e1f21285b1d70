// Package htmlcheck holds the checks that a report page is what it claims:
// charts that are labelled and hold data, and nothing that makes a browser
// fetch or run anything. The report tests run them on the generated file and
// the browser check runs them on the DOM Chromium rendered, so both judge the
// page by the same rules.
package htmlcheck

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// Walk calls f for every element under n, n included.
func Walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, f)
	}
}

// Attr returns an attribute's value, "" when absent.
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// HasClass reports whether n carries the class.
func HasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(Attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// Text is n's text content with whitespace collapsed.
func Text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// Charts checks every <svg>: an accessible title and description, a role and
// label for assistive technology, and at least one data mark (a rect, path or
// circle of class "mark"). It returns the charts by id and what is wrong.
func Charts(root *html.Node) (charts map[string]*html.Node, problems []string) {
	charts = map[string]*html.Node{}
	Walk(root, func(svg *html.Node) {
		if svg.Data != "svg" {
			return
		}
		id := Attr(svg, "id")
		charts[id] = svg
		var title, desc string
		for c := svg.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "title" {
				title = Text(c)
			}
			if c.Type == html.ElementNode && c.Data == "desc" {
				desc = Text(c)
			}
		}
		marks := 0
		Walk(svg, func(n *html.Node) {
			if HasClass(n, "mark") && (n.Data == "rect" || n.Data == "path" || n.Data == "circle") {
				marks++
			}
		})
		if title == "" || desc == "" {
			problems = append(problems, fmt.Sprintf("chart %q has no <title> or <desc> (title %q)", id, title))
		}
		if marks == 0 {
			problems = append(problems, fmt.Sprintf("chart %q (%s) is empty: no data mark", id, title))
		}
		if Attr(svg, "role") != "img" || Attr(svg, "aria-labelledby") == "" {
			problems = append(problems, fmt.Sprintf("chart %q is not labelled for assistive technology", id))
		}
	})
	return charts, problems
}

var externalRef = regexp.MustCompile(`(?i)^\s*(https?:|//|ftp:|file:|javascript:)`)

// SelfContained lists anything that would make a browser fetch or run
// something: scripts, stylesheets, frames, images or media from elsewhere, CSS
// url() or @import, event handlers, links that are not in-page anchors, and a
// missing Content-Security-Policy that forbids loads.
func SelfContained(root *html.Node) (problems []string) {
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	csp := 0
	Walk(root, func(n *html.Node) {
		switch n.Data {
		case "script", "link", "iframe", "frame", "object", "embed", "img", "video", "audio", "source", "base", "form", "image", "use", "foreignObject", "foreignobject":
			bad("the page has a <%s> element", n.Data)
		case "meta":
			if strings.EqualFold(Attr(n, "http-equiv"), "Content-Security-Policy") && strings.Contains(Attr(n, "content"), "default-src 'none'") {
				csp++
			}
		case "style":
			css := strings.ToLower(Text(n))
			if strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
				bad("inline CSS loads something: %.200s", css)
			}
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") {
				bad("<%s> has an event handler %s", n.Data, a.Key)
			}
			switch {
			case k == "href" || k == "xlink:href" || a.Namespace == "xlink" && a.Key == "href":
				if !strings.HasPrefix(a.Val, "#") {
					bad("<%s href=%q> is not an in-page link", n.Data, a.Val)
				}
			case k == "src" || k == "srcset" || k == "action" || k == "formaction" || k == "poster" || k == "data" || k == "background" || k == "ping":
				bad("<%s %s=%q> loads something", n.Data, a.Key, a.Val)
			case k == "style":
				if strings.Contains(strings.ToLower(a.Val), "url(") {
					bad("<%s style=%q> has url()", n.Data, a.Val)
				}
			default:
				if externalRef.MatchString(a.Val) && n.Data != "meta" {
					bad("<%s %s=%q> points outside", n.Data, a.Key, a.Val)
				}
			}
		}
	})
	if csp != 1 {
		bad("the page has no Content-Security-Policy forbidding loads")
	}
	return problems
}

// Command domcheck checks a report as a browser rendered it, for
// scripts/browser-check.sh: it reads the DOM that headless Chromium dumped
// (--dump-dom) on standard input and fails unless every chart is an <svg>
// with a <title> and at least one data mark (an element of class "mark"), at
// least -min-charts charts are there, and nothing on the page loads from
// elsewhere. With -png it also checks that the screenshot is a real picture:
// large enough and not blank.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"strings"

	"golang.org/x/net/html"
)

func main() {
	minCharts := flag.Int("min-charts", 1, "fail with fewer charts than `N`")
	noEmpty := flag.Bool("no-empty-notes", false, `fail on any "no data" note (for a harvest of every dataset)`)
	shot := flag.String("png", "", "also check the screenshot `FILE`")
	flag.Parse()

	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	dom, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "domcheck:", err)
		os.Exit(1)
	}
	root, err := html.Parse(strings.NewReader(string(dom)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "domcheck: the DOM does not parse:", err)
		os.Exit(1)
	}
	charts, notes := 0, 0
	walk(root, func(n *html.Node) {
		switch n.Data {
		case "svg":
			charts++
			checkChart(n, fail)
		case "script", "link", "iframe", "img", "object", "embed", "video", "audio", "base":
			fail("the page has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			if (a.Key == "src" || a.Key == "href" && !strings.HasPrefix(a.Val, "#")) && a.Val != "" {
				fail("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
			}
		}
		if hasClass(n, "nodata") {
			notes++
			if *noEmpty {
				fail("a section has no data: %q", text(n))
			}
		}
	})
	if charts < *minCharts {
		fail("%d charts rendered, want at least %d", charts, *minCharts)
	}
	if *shot != "" {
		checkPNG(*shot, fail)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "domcheck:", p)
		}
		os.Exit(1)
	}
	fmt.Printf("domcheck: %d charts, each with a title and data marks; %d 'no data' notes; nothing loaded from elsewhere\n", charts, notes)
}

func checkChart(svg *html.Node, fail func(string, ...any)) {
	id := attr(svg, "id")
	title, marks := "", 0
	for c := svg.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "title" {
			title = text(c)
		}
	}
	walk(svg, func(n *html.Node) {
		if hasClass(n, "mark") && (n.Data == "rect" || n.Data == "path" || n.Data == "circle") {
			marks++
		}
	})
	if title == "" {
		fail("chart %q has no <title>", id)
	}
	if marks == 0 {
		fail("chart %q (%s) is empty: no data mark", id, title)
	}
}

func checkPNG(path string, fail func(string, ...any)) {
	f, err := os.Open(path)
	if err != nil {
		fail("screenshot: %v", err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		fail("screenshot %s is not a PNG: %v", path, err)
		return
	}
	b := img.Bounds()
	if b.Dx() < 800 || b.Dy() < 1500 {
		fail("screenshot %s is only %dx%d", path, b.Dx(), b.Dy())
	}
	if ink := inked(img); ink < 0.01 {
		fail("screenshot %s is blank (%.2f%% of pixels not white)", path, ink*100)
	}
}

// inked is the share of pixels, sampled on a grid, that are not near white.
func inked(img image.Image) float64 {
	b := img.Bounds()
	total, dark := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xe800 || g < 0xe800 || bl < 0xe800 {
				dark++
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(dark) / float64(total)
}

func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
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

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

	"adharvest/report/htmlcheck"

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
	chartsByID, chartProblems := htmlcheck.Charts(root)
	charts, notes := len(chartsByID), 0
	problems = append(problems, chartProblems...)
	problems = append(problems, htmlcheck.SelfContained(root)...)
	htmlcheck.Walk(root, func(n *html.Node) {
		if htmlcheck.HasClass(n, "nodata") {
			notes++
			if *noEmpty {
				fail("a section has no data: %q", htmlcheck.Text(n))
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

// Command bench is scripts/bench.sh's half of the side-by-side benchmark:
// it serves the bundled fake API with a realistic volume of ads, and it is
// the minimal client that adharvest's own cost is measured against: a client
// that only pages ad/query for one slice per country over the whole range,
// the true minimum of requests, and decodes each page once into plain Go
// values, with no checkpoint, no Parquet and no raw copy.
//
//	bench serve  --ads-per-year 200000 [--latency 0] [--rate 0]
//	bench client --api-url URL --from 2023-01-01 --to 2023-12-31 [--concurrency 8]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adharvest/countries"
	"adharvest/tiktok/api"
	"adharvest/tiktok/apitest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench serve|client [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "client":
		err = client(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use serve or client", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serve prints the fake's URL on its first line of output, then serves until
// killed.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	n := fs.Float64("ads-per-year", 200_000, "ads a year across the EEA")
	latency := fs.Duration("latency", 0, "delay of every answer")
	rate := fs.Float64("rate", 0, "requests a second the fake allows (0: no limit)")
	_ = fs.Parse(args)
	o := apitest.Realistic(*n)
	o.Latency = *latency
	if *rate > 0 {
		o.RateLimit = apitest.RateLimit{PerSecond: *rate, Burst: max(1, int(*rate/4))}
	}
	srv := apitest.New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	return http.Serve(ln, srv.Handler())
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	base := fs.String("api-url", "", "the fake's URL")
	from := fs.String("from", "2023-01-01", "first day")
	to := fs.String("to", "2023-12-31", "last day")
	conc := fs.Int("concurrency", 8, "slices in flight")
	_ = fs.Parse(args)
	token, err := fetchToken(*base)
	if err != nil {
		return err
	}
	f, _ := time.Parse("2006-01-02", *from)
	t, _ := time.Parse("2006-01-02", *to)
	work := make(chan string)
	var ads, requests atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				n, r, err := pageCountry(*base, token, c, f, t)
				ads.Add(n)
				requests.Add(r)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	for _, c := range countries.EEA {
		work <- c
	}
	close(work)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("minimal client: %d ads, %d requests, %.2f s, %.0f ads/s\n", ads.Load(), requests.Load(), secs, float64(ads.Load())/secs)
	return nil
}

func fetchToken(base string) (string, error) {
	form := url.Values{"client_key": {"demo-client-key"}, "client_secret": {"demo-client-secret"}, "grant_type": {"client_credentials"}}
	res, err := http.PostForm(base+"/v2/oauth/token/", form)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token: %v (HTTP %d)", err, res.StatusCode)
	}
	return tok.AccessToken, nil
}

// pageCountry pages one country's ads over the whole range.
func pageCountry(base, token, country string, from, to time.Time) (ads, requests int64, err error) {
	u := base + "/v2/research/adlib/ad/query/?fields=" + strings.Join(api.RequiredFieldNames(api.EndpointAdQuery), ",")
	searchID := ""
	for {
		req := map[string]any{
			"filters":   map[string]any{"ad_published_date_range": map[string]string{"min": from.Format("20060102"), "max": to.Format("20060102")}, "country_code": country},
			"max_count": 50,
		}
		if searchID != "" {
			req["search_id"] = searchID
		}
		body, _ := json.Marshal(req)
		hr, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		hr.Header.Set("Authorization", "Bearer "+token)
		hr.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			return ads, requests, err
		}
		requests++
		var page struct {
			Data struct {
				Ads      []map[string]any `json:"ads"`
				HasMore  any              `json:"has_more"`
				SearchID string           `json:"search_id"`
			} `json:"data"`
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			return ads, requests, fmt.Errorf("%s page %d: %w", country, requests, err)
		}
		if res.StatusCode != http.StatusOK {
			return ads, requests, fmt.Errorf("%s page %d: HTTP %d %s", country, requests, res.StatusCode, page.Error.Code)
		}
		ads += int64(len(page.Data.Ads))
		more := page.Data.HasMore == true || page.Data.HasMore == "true"
		if !more {
			return ads, requests, nil
		}
		searchID = page.Data.SearchID
	}
}

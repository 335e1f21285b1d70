package apitest

import (
	"slices"
	"strings"
	"time"
)

// Dataset names as the harvester spells them, for MinimumSpec.Datasets.
const (
	DatasetAds         = "ads"
	DatasetAdDetails   = "ad-details"
	DatasetAdReports   = "ad-reports"
	DatasetContent     = "commercial-content"
	DatasetAdvertisers = "advertisers"
)

// MinimumSpec describes a harvest in the fake's own terms, so that the
// universe can say what it must cost at least.
type MinimumSpec struct {
	// Datasets are Dataset* names; the others are ignored.
	Datasets []string
	Queries  []MinimumQuery
	// MaxCount is the page size; 0 means 50, the most the API serves.
	MaxCount int
	// ReportMaxDays is the longest ad/report range the server accepts
	// (Options.ReportMaxDays); 0 means no limit.
	ReportMaxDays int
	// Now counts only what is visible at Now under a Lifecycle; zero
	// counts every ad.
	Now time.Time
}

// MinimumQuery is one set of filters, as a job query has them.
type MinimumQuery struct {
	// Countries are ad country codes or "ALL"; empty means ALL. Codes the
	// endpoint does not serve (GB for commercial content, CH anywhere) are
	// skipped, as no request can ask for them.
	Countries []string
	// From and To are the inclusive date range (UTC dates).
	From, To time.Time
	// Terms are search terms; SearchType applies to all of them.
	Terms      []string
	SearchType string
	// AdvertiserIDs filter the term-less ads query and the reports.
	AdvertiserIDs []int64
	// UsersSeenMin and UsersSeenMax are the ads' reach filter (0 = open).
	UsersSeenMin, UsersSeenMax int64
	// CreatorUsernames filter commercial content.
	CreatorUsernames []string
}

// MinimumSlice is one request set the minimum is made of.
type MinimumSlice struct {
	Dataset       string
	Country       string // "ALL" or a code; "" for advertisers
	Term          string
	AdvertiserIDs []int64
	From, To      time.Time // zero for advertisers
	// Items is the number of ads, posts or series days the slice returns
	// (ads and content: the full result; reports: country-days with ads;
	// advertisers: 0).
	Items int
	// Requests is what the slice costs at least.
	Requests int
}

// MinimumCost is the least a harvest of a MinimumSpec can cost.
//
// "Minimum" means: the fewest successful data requests that fetch everything
// the spec asks for, if every request is answered correctly and fully, with
// every page holding max_count items (no removed-item holes), and with full
// knowledge of the data. Concretely:
//
//   - ads: for each query, each of its terms (and, when it has no terms or
//     has advertiser ids, one term-less query with those ids) and each
//     country, one slice over the whole date range: ceil(n/max_count) pages,
//     at least 1 (an empty result still takes a request to learn it);
//   - ad-reports: one request per country (one for ALL, also when the
//     countries list every ad country), per window of at most ReportMaxDays
//     days;
//   - ad-details: one request per distinct ad the ads slices find;
//   - commercial-content: ceil(n/max_count) per creator country (EEA only;
//     one for ALL), at least 1;
//   - advertisers: one request per distinct term.
//
// Identical slices of different queries count once. Tokens, retries, faults,
// throttling, quota errors, holes, short pagination (and its healing), the
// endless term and search_id restarts are all excluded: they are what a
// harvester spends above the minimum, and tests compare that overhead with
// the Server's Stats.
type MinimumCost struct {
	// Requests are per dataset of the spec (present even when 0).
	Requests map[string]int
	Total    int
	// DistinctAds is the number of distinct ads the ads slices find, AdIDs
	// those ads (sorted); DistinctContents the distinct posts.
	DistinctAds      int
	AdIDs            []int64
	DistinctContents int
	// Slices are the request sets: ads, then ad-reports, commercial-content
	// and advertisers, each in spec order (ad-details is one request per
	// AdIDs entry and has no slices).
	Slices []MinimumSlice
	// Reports are, per query (in spec order), the per-country-per-day counts
	// ad/report gives for its countries, range and advertiser ids: what a
	// planner could have known before paging. They ignore terms.
	Reports []map[string]map[string]int64
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

func specHas(ds []string, d string) bool {
	for _, x := range ds {
		if strings.EqualFold(strings.TrimSpace(x), d) {
			return true
		}
	}
	return false
}

// adCountriesOf resolves a query's countries for ads and reports: ALL, or
// the distinct served codes in order.
func adCountriesOf(list []string) (all bool, codes []string) {
	if len(list) == 0 {
		return true, nil
	}
	for _, c := range list {
		c = strings.ToUpper(strings.TrimSpace(c))
		switch {
		case c == "ALL":
			all = true
		case slices.Contains(adCountries, c) && !slices.Contains(codes, c):
			codes = append(codes, c)
		}
	}
	return all, codes
}

// Minimum computes the MinimumCost of spec from the universe's ground truth.
func (u *Universe) Minimum(spec MinimumSpec) MinimumCost {
	mc := spec.MaxCount
	if mc <= 0 {
		mc = maxPage
	}
	cost := MinimumCost{Requests: map[string]int{}}
	for _, d := range []string{DatasetAds, DatasetAdDetails, DatasetAdReports, DatasetContent, DatasetAdvertisers} {
		if specHas(spec.Datasets, d) {
			cost.Requests[d] = 0
		}
	}
	wantAds, wantDetails := specHas(spec.Datasets, DatasetAds), specHas(spec.Datasets, DatasetAdDetails)
	seen := map[uint64]bool{}
	once := func(k uint64) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}

	// ads (and the ads ad-details fetches)
	if wantAds || wantDetails {
		adSet := map[int64]struct{}{}
		for _, q := range spec.Queries {
			type variant struct {
				term string
				ids  []int64
			}
			var vs []variant
			for _, t := range q.Terms {
				vs = append(vs, variant{term: t})
			}
			if len(q.Terms) == 0 || len(q.AdvertiserIDs) > 0 {
				vs = append(vs, variant{ids: q.AdvertiserIDs})
			}
			all, codes := adCountriesOf(q.Countries)
			if all {
				codes = append([]string{"ALL"}, codes...)
			}
			for _, v := range vs {
				for _, c := range codes {
					aq := normalizeAdQuery(AdQuery{Country: c, From: q.From, To: q.To, Term: v.term, SearchType: q.SearchType,
						AdvertiserIDs: v.ids, UsersSeenMin: q.UsersSeenMin, UsersSeenMax: q.UsersSeenMax})
					if !once(adQueryKey(aq)) {
						continue
					}
					sk := u.matchAdsAt(aq, spec.Now)
					for i := range sk {
						adSet[sk[i].id] = struct{}{}
					}
					sl := MinimumSlice{Dataset: DatasetAds, Country: c, Term: v.term, AdvertiserIDs: aq.AdvertiserIDs,
						From: dayTime(dayIndex(q.From)), To: dayTime(dayIndex(q.To)), Items: len(sk), Requests: max(1, ceilDiv(len(sk), mc))}
					if wantAds {
						cost.Slices = append(cost.Slices, sl)
						cost.Requests[DatasetAds] += sl.Requests
					}
				}
			}
		}
		cost.DistinctAds = len(adSet)
		cost.AdIDs = make([]int64, 0, len(adSet))
		for id := range adSet {
			cost.AdIDs = append(cost.AdIDs, id)
		}
		slices.Sort(cost.AdIDs)
		if wantDetails {
			cost.Requests[DatasetAdDetails] = len(adSet)
		}
	}

	// reports: what the planner could have known, and their cost
	for _, q := range spec.Queries {
		all, codes := adCountriesOf(q.Countries)
		full := u.ReportAt("ALL", q.From, q.To, q.AdvertiserIDs, spec.Now)
		if !all {
			for c := range full {
				if !slices.Contains(codes, c) {
					delete(full, c)
				}
			}
		}
		cost.Reports = append(cost.Reports, full)
		if !specHas(spec.Datasets, DatasetAdReports) {
			continue
		}
		if all || len(codes) == len(adCountries) {
			codes = []string{"ALL"}
		}
		lo, hi := dayIndex(q.From), dayIndex(q.To)
		step := int32(spec.ReportMaxDays)
		if step <= 0 {
			step = hi - lo + 1
		}
		for _, c := range codes {
			for w := lo; w <= hi; w += step {
				from, to := dayTime(w), dayTime(min(hi, w+step-1))
				if !once(reportKey(c, from, to, q.AdvertiserIDs) ^ 0x5e9) {
					continue
				}
				items, lo, hi := 0, DateString(from), DateString(to)
				for cc, days := range full {
					if c == "ALL" || cc == c {
						for d := range days {
							if d >= lo && d <= hi {
								items++
							}
						}
					}
				}
				cost.Slices = append(cost.Slices, MinimumSlice{Dataset: DatasetAdReports, Country: c, AdvertiserIDs: q.AdvertiserIDs,
					From: from, To: to, Items: items, Requests: 1})
				cost.Requests[DatasetAdReports]++
			}
		}
	}

	// commercial content
	if specHas(spec.Datasets, DatasetContent) {
		postSet := map[contentSkel]struct{}{}
		for _, q := range spec.Queries {
			var codes []string
			all := len(q.Countries) == 0
			for _, c := range q.Countries {
				c = strings.ToUpper(strings.TrimSpace(c))
				switch {
				case c == "ALL":
					all = true
				case slices.Contains(contentCountries, c) && !slices.Contains(codes, c):
					codes = append(codes, c)
				}
			}
			if all {
				codes = append([]string{"ALL"}, codes...)
			}
			users := make([]string, 0, len(q.CreatorUsernames))
			for _, n := range q.CreatorUsernames {
				users = append(users, strings.ToLower(n))
			}
			slices.Sort(users)
			users = slices.Compact(users)
			for _, c := range codes {
				if !once(hashString("commercial_content/query", c, DateString(q.From), DateString(q.To), strings.Join(users, "\x00"))) {
					continue
				}
				sk := u.matchContentAt(c, q.From, q.To, q.CreatorUsernames, spec.Now)
				for _, s := range sk {
					postSet[s] = struct{}{}
				}
				sl := MinimumSlice{Dataset: DatasetContent, Country: c, From: dayTime(dayIndex(q.From)), To: dayTime(dayIndex(q.To)),
					Items: len(sk), Requests: max(1, ceilDiv(len(sk), mc))}
				cost.Slices = append(cost.Slices, sl)
				cost.Requests[DatasetContent] += sl.Requests
			}
		}
		cost.DistinctContents = len(postSet)
	}

	// advertisers
	if specHas(spec.Datasets, DatasetAdvertisers) {
		terms := map[string]bool{}
		for _, q := range spec.Queries {
			for _, t := range q.Terms {
				if t == "" || terms[t] {
					continue
				}
				terms[t] = true
				cost.Slices = append(cost.Slices, MinimumSlice{Dataset: DatasetAdvertisers, Term: t, Requests: 1})
				cost.Requests[DatasetAdvertisers]++
			}
		}
	}
	for _, n := range cost.Requests {
		cost.Total += n
	}
	return cost
}

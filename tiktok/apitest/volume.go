package apitest

import (
	"math"
	"slices"
	"strings"
	"time"
)

// VolumeModel replaces the flat Density (a uniform 0..2×Density ads per
// country and day) with volumes shaped like the live library's: each country
// originates ads in proportion to a weight (by default its population, so
// Germany sees about two thousand times as many as Liechtenstein), elections
// bring surges of several times the base rate in the weeks before them, and
// there are quiet stretches with few or no ads. A planner that splits its
// windows by expected volume, or a monitor that must not mistake a quiet week
// for an outage, can only be tested against such data.
//
// The count of a (country, day) is a Poisson draw around the modelled rate,
// taken from a hash of the seed, the day and the country, so it is
// deterministic and computed lazily like the flat model's.
type VolumeModel struct {
	// AdsPerYear is the base number of ads all ad countries together
	// originate in a year, before surges, weekends and quiet stretches;
	// 0 means 200,000. An ad also targets up to three other countries,
	// chosen by the same weights, so per-country counts (ad/report) add up
	// to more than this.
	AdsPerYear float64
	// Weights are the relative shares of the ad countries (codes of
	// AdCountries); nil means PopulationWeights. A country missing from a
	// non-nil map (or weighted 0) neither originates ads nor is chosen as an
	// extra target, so its ad/report series is empty.
	Weights map[string]float64
	// Surges raise the rate before election days.
	Surges []Surge
	// Quiet lowers the rate over fixed periods (holidays, outages).
	Quiet []QuietPeriod
	// QuietWeeks is the fraction of (country, week) pairs that are a random
	// quiet stretch (weeks start on Monday), in which the rate is multiplied
	// by QuietFactor.
	QuietWeeks float64
	// QuietFactor multiplies the rate in a random quiet week; 0 means no ads
	// at all.
	QuietFactor float64
	// Weekend multiplies the rate on Saturdays and Sundays; 0 means 1.
	Weekend float64
	// ContentPerYear is the base number of commercial content posts per year,
	// shaped by the same weights (surges, quiet stretches and weekends apply
	// too); 0 keeps the flat Density model for content.
	ContentPerYear float64
}

// Surge multiplies the rate of some countries over the Days days before an
// election (the election day itself is not part of it: many countries have
// an electoral silence).
type Surge struct {
	// Countries are ad country codes; empty means every country.
	Countries []string
	// Election is the election day (only its UTC date counts).
	Election time.Time
	// Days is the length of the surge; 0 means 14.
	Days int
	// Factor multiplies the rate; 0 means 4.
	Factor float64
}

// QuietPeriod multiplies the rate of some countries from From to To
// inclusive (UTC dates).
type QuietPeriod struct {
	// Countries are ad country codes; empty means every country.
	Countries []string
	From, To  time.Time
	// Factor multiplies the rate; 0 means no ads at all.
	Factor float64
}

// populations are millions of inhabitants (2023, rounded), the default
// weights.
var populations = map[string]float64{
	"AT": 9.1, "BE": 11.8, "BG": 6.4, "CY": 0.93, "CZ": 10.9, "DE": 84.5, "DK": 5.9, "EE": 1.37,
	"ES": 48.6, "FI": 5.6, "FR": 68.2, "GB": 68.3, "GR": 10.4, "HR": 3.85, "HU": 9.6, "IE": 5.3,
	"IS": 0.39, "IT": 58.9, "LI": 0.039, "LT": 2.86, "LU": 0.66, "LV": 1.88, "MT": 0.54, "NL": 17.9,
	"NO": 5.5, "PL": 36.8, "PT": 10.5, "RO": 19.0, "SE": 10.5, "SI": 2.12, "SK": 5.4,
}

// PopulationWeights returns the default VolumeModel weights: every ad
// country's population in millions (Germany 84.5, Liechtenstein 0.039).
func PopulationWeights() map[string]float64 {
	out := make(map[string]float64, len(populations))
	for k, v := range populations {
		out[k] = v
	}
	return out
}

// EUElection2024 is the day of the 2024 European Parliament election (the
// last polling day, Sunday 9 June 2024).
var EUElection2024 = time.Date(2024, 6, 9, 0, 0, 0, 0, time.UTC)

// RealisticVolume is the model the volume tests and benchmarks use:
// population weights, adsPerYear ads a year (0 means 200,000), a two-week
// surge of four times the rate before the 2024 European election in the 27
// EU countries and before a few national elections (Poland 2023-10-15,
// Netherlands 2023-11-22, France 2024-06-30, United Kingdom 2024-07-04,
// Germany 2025-02-23), a quiet Christmas (24-26 December at a tenth of the
// rate), 3% of country-weeks with no ads at all, and weekends at 70%.
func RealisticVolume(adsPerYear float64) *VolumeModel {
	var eu []string
	for _, c := range adCountries {
		if c != "GB" && c != "IS" && c != "LI" && c != "NO" {
			eu = append(eu, c)
		}
	}
	v := &VolumeModel{
		AdsPerYear: adsPerYear,
		Surges: []Surge{
			{Countries: eu, Election: EUElection2024},
			{Countries: []string{"PL"}, Election: time.Date(2023, 10, 15, 0, 0, 0, 0, time.UTC)},
			{Countries: []string{"NL"}, Election: time.Date(2023, 11, 22, 0, 0, 0, 0, time.UTC)},
			{Countries: []string{"FR"}, Election: time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)},
			{Countries: []string{"GB"}, Election: time.Date(2024, 7, 4, 0, 0, 0, 0, time.UTC)},
			{Countries: []string{"DE"}, Election: time.Date(2025, 2, 23, 0, 0, 0, 0, time.UTC)},
		},
		QuietWeeks:  0.03,
		QuietFactor: 0,
		Weekend:     0.7,
	}
	for y := 2022; y <= 2030; y++ {
		v.Quiet = append(v.Quiet, QuietPeriod{From: time.Date(y, 12, 24, 0, 0, 0, 0, time.UTC), To: time.Date(y, 12, 26, 0, 0, 0, 0, time.UTC), Factor: 0.1})
	}
	return v
}

// dayFactor is a multiplier over a day range for a set of countries.
type dayFactor struct {
	lo, hi int32 // day indexes, inclusive
	mask   uint32
	factor float64
}

// volumeState is a VolumeModel compiled for fast lookups.
type volumeState struct {
	perDay      []float64 // base ads per day by country index
	contentDay  []float64 // base posts per day by content country index; nil = flat
	cum         []float64 // cumulative weights over adCountries, for choosing extra countries
	factors     []dayFactor
	quietWeeks  float64
	quietFactor float64
	weekend     float64
}

func countryMask(list []string) uint32 {
	if len(list) == 0 {
		return 1<<len(adCountries) - 1
	}
	var m uint32
	for _, c := range list {
		if i := countryIndex(adCountries, strings.ToUpper(c)); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func compileVolume(v *VolumeModel) *volumeState {
	w := v.Weights
	if w == nil {
		w = populations
	}
	perYear := v.AdsPerYear
	if perYear <= 0 {
		perYear = 200_000
	}
	var total float64
	for _, c := range adCountries {
		total += max(0, w[c])
	}
	st := &volumeState{perDay: make([]float64, len(adCountries)), cum: make([]float64, len(adCountries))}
	run := 0.0
	for i, c := range adCountries {
		share := 0.0
		if total > 0 {
			share = max(0, w[c]) / total
		}
		st.perDay[i] = perYear / 365 * share
		run += share
		st.cum[i] = run
	}
	if v.ContentPerYear > 0 {
		var ctotal float64
		for _, c := range contentCountries {
			ctotal += max(0, w[c])
		}
		st.contentDay = make([]float64, len(contentCountries))
		for i, c := range contentCountries {
			if ctotal > 0 {
				st.contentDay[i] = v.ContentPerYear / 365 * max(0, w[c]) / ctotal
			}
		}
	}
	for _, s := range v.Surges {
		days, f := s.Days, s.Factor
		if days <= 0 {
			days = 14
		}
		if f <= 0 {
			f = 4
		}
		e := dayIndex(s.Election)
		st.factors = append(st.factors, dayFactor{lo: e - int32(days), hi: e - 1, mask: countryMask(s.Countries), factor: f})
	}
	for _, q := range v.Quiet {
		st.factors = append(st.factors, dayFactor{lo: dayIndex(q.From), hi: dayIndex(q.To), mask: countryMask(q.Countries), factor: max(0, q.Factor)})
	}
	st.quietWeeks, st.quietFactor = v.QuietWeeks, max(0, v.QuietFactor)
	st.weekend = v.Weekend
	if st.weekend <= 0 {
		st.weekend = 1
	}
	return st
}

// volumeFactor is the product of the day's multipliers for ad country index home
// (content countries are mapped to their ad country index by the caller).
func (u *Universe) volumeFactor(day int32, home int) float64 {
	v := u.vol
	f := 1.0
	if wd := dayTime(day).Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= v.weekend
	}
	for i := range v.factors {
		d := &v.factors[i]
		if day >= d.lo && day <= d.hi && d.mask&(1<<home) != 0 {
			f *= d.factor
		}
	}
	if v.quietWeeks > 0 {
		// Epoch (2022-10-01) is a Saturday; day+5 makes weeks start on Monday.
		week := uint64((day + 5) / 7)
		if unitFloat(u.hash(tagQuietWeek, week, uint64(home), 0)) < v.quietWeeks {
			f *= v.quietFactor
		}
	}
	return f
}

// ExpectedAds is the modelled mean number of ads country (an ad country code)
// originates on day; without a VolumeModel it is the flat Density. Tests use
// it to check the shape of the volumes without relying on one draw.
func (u *Universe) ExpectedAds(country string, day time.Time) float64 {
	home := countryIndex(adCountries, strings.ToUpper(country))
	if home < 0 {
		return 0
	}
	if u.vol == nil {
		return float64(u.density)
	}
	return u.vol.perDay[home] * u.volumeFactor(dayIndex(day), home)
}

func (u *Universe) volumeAdCount(day int32, home int) int {
	lambda := u.vol.perDay[home] * u.volumeFactor(day, home)
	return min(poisson(lambda, u.hash(tagAdCount, uint64(day), uint64(home), 1)), 1<<16-1)
}

func (u *Universe) volumeContentCount(day int32, country int) int {
	home := countryIndex(adCountries, contentCountries[country])
	lambda := u.vol.contentDay[country] * u.volumeFactor(day, home)
	return min(poisson(lambda, u.hash(tagContentCount, uint64(day), uint64(country), 1)), 1<<16-1)
}

// pickCountry chooses an ad country index by the model's weights.
func (v *volumeState) pickCountry(x float64) int {
	x *= v.cum[len(v.cum)-1]
	i, _ := slices.BinarySearch(v.cum, x)
	return min(i, len(v.cum)-1)
}

func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// poisson draws from a Poisson distribution of mean lambda with the
// randomness of h: by inversion for small means, by the normal approximation
// (within a fraction of a percent at these sizes) for large ones.
func poisson(lambda float64, h uint64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 40 {
		x := unitFloat(h)
		p := math.Exp(-lambda)
		c, k := p, 0
		for x > c && k < 400 {
			k++
			p *= lambda / float64(k)
			c += p
		}
		return k
	}
	u1 := (float64(h>>11) + 0.5) / (1 << 53)
	u2 := unitFloat(mix64(h))
	z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
	return max(0, int(math.Round(lambda+z*math.Sqrt(lambda))))
}

package manifest

import "strconv"

// Settings are how a folder was last harvested, beyond its job: a plain
// resume (`adharvest harvest --out DIR`, a cron line) uses them for every
// flag its command line does not give, so that a folder harvested from a
// local fake API is not resumed against the real one, and a folder harvested
// with --detail-budget does not spend its whole detail backlog on the next
// run. The API URL is Manifest.APIURL.
type Settings struct {
	// RPS is --rps as given: "auto", a rate, or "0" for unlimited.
	RPS          string `json:"rps,omitempty"`
	Concurrency  int    `json:"concurrency,omitempty"`
	DetailBudget int    `json:"detail_budget,omitempty"`
	DailyQuota   int    `json:"daily_quota,omitempty"`
	RecheckDays  int    `json:"recheck_days,omitempty"`
}

// RateText is the --rps value of a rate (auto: learned, rps then caps it).
func RateText(rps float64, auto bool) string {
	if auto {
		return "auto"
	}
	return strconv.FormatFloat(rps, 'f', -1, 64)
}

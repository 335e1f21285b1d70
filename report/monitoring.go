package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"adharvest/job"
)

// MonitoringView is the Monitoring section, for a folder harvested night
// after night (a job asked up to yesterday, or extended by later runs): what
// each day brought (new ads, takedowns, from the monitoring-daily analysis),
// how long the library took to show new ads (publication-latency), and which
// days are still provisional, so that a researcher does not read tonight's
// counts as final.
type MonitoringView struct {
	// Has is set when the section shows: the folder holds ads, and its job
	// rolls on to yesterday, or more than one run fetched, or some of its
	// days are provisional.
	Has     bool
	Summary string
	// Rolling is set when the job is asked up to yesterday; Next is then
	// the command a scheduler runs every night.
	Rolling bool
	Next    string
	// Provisional says which days the next run fetches again, "" for none.
	Provisional string
	Days        []MonitorDay // the last days with anything, oldest first
	DaysMore    int          // earlier days left out of the table
	Chart       *Chart
	Latency     []LatencyRow // per country
	LatencyAll  LatencyRow
	// LatencyNote explains the figure; LatencyNone is the one line shown
	// instead when no ad appeared while the folder was monitored.
	LatencyNote, LatencyNone string
}

// MonitorDay is one day of the monitoring-daily analysis.
type MonitorDay struct {
	Day                                                string
	Published, FirstSeen, InactiveOnArrival, Takedowns int64
	Provisional                                        bool
}

// LatencyRow is one country's publication latency (or all countries').
type LatencyRow struct {
	Code, Name          string
	Ads                 int64
	Median, P90, Max    string // hours
	Over24, Over48      string // shares
	Late                bool   // more than a tenth took over 48 hours
	over24, over48, med float64
}

// monitorDays is how many days the table and the chart show.
const monitorDays = 28

// monitoring fills the Monitoring section.
func (p *Page) monitoring(ctx context.Context, db *sql.DB) error {
	mv := &p.Monitoring
	if !p.HasAds {
		return nil
	}
	var days []MonitorDay
	err := run(ctx, db, "monitoring-daily", 0, func(r record) error {
		d, ok := r.date("day")
		if !ok {
			return nil
		}
		days = append(days, MonitorDay{Day: d.Format("2006-01-02"), Published: r.int("published"), FirstSeen: r.int("first_seen"),
			InactiveOnArrival: r.int("inactive_on_arrival"), Takedowns: r.int("takedowns"), Provisional: r.boolean("provisional")})
		return nil
	})
	if err != nil {
		return err
	}
	runs := 0
	if m := p.Manifest; m != nil {
		for _, r := range m.Runs {
			if r.Status != "planned" && r.Requests > 0 {
				runs++
			}
		}
		for _, q := range m.Job.Queries {
			mv.Rolling = mv.Rolling || q.ToWord != ""
		}
	}
	var prov []string
	var takedowns int64
	for _, d := range days {
		if d.Provisional {
			prov = append(prov, d.Day)
		}
		takedowns += d.Takedowns
	}
	mv.Has = mv.Rolling || runs > 1 || len(prov) > 0
	if !mv.Has {
		return nil
	}
	if len(prov) > 0 {
		span := prov[0]
		if len(prov) > 1 {
			span = prov[0] + " to " + prov[len(prov)-1]
		}
		final := ""
		if last, err := time.Parse("2006-01-02", prov[len(prov)-1]); err == nil {
			final = fmt.Sprintf("; a run on or after %s (UTC) makes the last of them final", last.AddDate(0, 0, provisionalDays+1).Format("2006-01-02"))
		}
		mv.Provisional = fmt.Sprintf("Provisional: %s (%d day%s). Those days were less than %d days old when they were fetched, and ads may still be arriving there, so their counts below will change: the next run fetches them again%s.",
			span, len(prov), monitorPlural(len(prov)), provisionalDays, final)
	}
	mv.Next = "adharvest harvest --out " + p.Dir
	what := "Harvested"
	if mv.Rolling {
		what = "Monitored up to yesterday"
	}
	mv.Summary = fmt.Sprintf("%s over %d run%s; the runs observed %s takedown%s (active ads found inactive by a later read).", what, runs, monitorPlural(runs), Int(takedowns), monitorPlural(int(takedowns)))

	// The last days with anything to show.
	if len(days) > monitorDays {
		mv.DaysMore = len(days) - monitorDays
		days = days[len(days)-monitorDays:]
	}
	mv.Days = days
	cats := make([]string, len(days))
	series := []Series{{Name: "first seen", Values: make([]float64, len(days))}, {Name: "takedowns observed", Values: make([]float64, len(days))}}
	tips := [][]string{make([]string, len(days)), make([]string, len(days))}
	for i, d := range days {
		cats[i] = d.Day[5:]
		if d.Provisional {
			cats[i] += "*"
		}
		series[0].Values[i], series[1].Values[i] = float64(d.FirstSeen), float64(d.Takedowns)
		tips[0][i] = fmt.Sprintf("%s: %s ads fetched for the first time", d.Day, Int(d.FirstSeen))
		tips[1][i] = fmt.Sprintf("%s: %s takedowns observed", d.Day, Int(d.Takedowns))
	}
	mv.Chart = StackedBarChart("chart-monitoring", "Ads fetched for the first time and takedowns observed, per day",
		"Stacked bar chart, one bar per day (UTC, month-day; an asterisk marks a provisional day): the distinct ads this folder fetched for the first time that day, and on top the ads a read that day found taken down (active before, inactive now).",
		"ads", cats, series, []string{"#4e79a7", "#e15759"}, tips)

	err = run(ctx, db, "publication-latency", 0, func(r record) error {
		l := LatencyRow{Code: r.str("country_code"), Ads: r.int("ads")}
		if l.Ads == 0 {
			return nil
		}
		l.Median, l.P90, l.Max = hours(r["median_hours"]), hours(r["p90_hours"]), hours(r["max_hours"])
		l.over24, l.over48 = share(r["share_over_24h"]), share(r["share_over_48h"])
		l.Over24, l.Over48 = percent(l.over24), percent(l.over48)
		l.Late = l.over48 > 0.1
		if r.boolean("all_countries") {
			l.Name = "all countries"
			mv.LatencyAll = l
		} else {
			l.Name = countryLabel(l.Code)
			mv.Latency = append(mv.Latency, l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if mv.LatencyAll.Ads == 0 {
		mv.LatencyNone = "No ad was first shown while this folder was monitored (from the day before its first fetch on), so there is no publication latency to measure yet."
		return nil
	}
	a := mv.LatencyAll
	mv.LatencyNote = fmt.Sprintf("Of %s ads × country first shown while the folder was monitored, half were fetched within %s hours of the midnight (UTC) that began their first day; %s took more than 24 hours and %s more than 48.",
		Int(a.Ads), a.Median, a.Over24, a.Over48)
	if p.Manifest != nil && p.Manifest.Job.Has(job.Ads) {
		mv.LatencyNote += " A run can ask for a day only once it has ended, so a nightly run sees every ad a day late at least: the share beyond 48 hours is the share the first run after their day did not find yet."
	}
	return nil
}

// hours formats a latency in hours.
func hours(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.1f", x)
	case nil:
		return "–"
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// share reads a share column (DOUBLE).
func share(v any) float64 {
	f, _ := v.(float64)
	return f
}

func monitorPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

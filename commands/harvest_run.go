package commands

import (
	"context"
	"fmt"
	"io"
	"time"

	"adharvest/crawl"
	"adharvest/tiktok"
)

// run runs crawl.Run with the command's options, tuned by tune (plan sets
// PlanOnly), showing progress on Stderr; it prints no summary.
func (o *HarvestCommand) run(ctx context.Context, tune func(*crawl.Options)) (crawl.Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	prog := o.newProgress()
	opts := crawl.Options{
		Dir: o.Out, Job: o.Job, ExtendTo: o.ExtendTo, Restart: o.Restart, APIFromFolder: o.APIFromFolder,
		API:         tiktok.Config{APIURL: o.APIURL, ClientKey: o.ClientKey, ClientSecret: o.ClientSecret, RPS: o.RPS, AutoRate: o.AutoRate, Retry: o.Retry},
		Concurrency: o.Concurrency, FlushPages: o.FlushPages, DailyQuota: o.DailyQuota, DetailBudget: o.DetailBudget, RecheckDays: o.RecheckDays,
		SearchIDWait: o.SearchIDWait, Version: Version, Events: prog.events(), Logf: prog.logf,
		Warn: func(msg string) { fmt.Fprintln(o.Stderr, "adharvest: warning: "+msg) },
		Now:  o.Now,
	}
	if tune != nil {
		tune(&opts)
	}
	res, err := crawl.Run(ctx, opts)
	prog.finish()
	return res, o.jobError(err)
}

package main

import (
	"fmt"
	"io"
	"os"
	"time"

	// progressbar draws the bar on a terminal: it is well kept, sizes
	// itself to the terminal's width, and computes the rate and the ETA,
	// which is all an operator watching a fleet run wants.
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/condohq/condo/fleet"
)

// progress shows a fleet run's progress on standard error: a bar with
// rate and ETA on a terminal, else one line per wave, for logs.
type progress struct {
	w        io.Writer
	terminal bool
	title    string
	bar      *progressbar.ProgressBar // made at the first update, when the total is known
}

func (m *Main) newProgress(direction string, dryRun bool) *progress {
	p := &progress{w: m.Stderr, title: "migrate " + direction}
	if dryRun {
		p.title += " (dry run)"
	}
	if f, ok := m.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	}
	return p
}

// update receives fleet.Progress; the runner never calls it concurrently.
func (p *progress) update(e fleet.Progress) {
	if !p.terminal {
		if e.WaveDone {
			fmt.Fprintf(p.w, "condo: %s: %s wave done: %d/%d tenants (%d migrated, %d skipped, %d failed) after %s\n",
				p.title, e.Wave, e.Done, e.Queued, e.Migrated, e.Skipped, e.Failed, e.Elapsed.Round(time.Millisecond))
		}
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(e.Queued,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.title),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("tenants"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
		)
	}
	if e.Failed > 0 {
		p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.title, e.Failed))
	}
	p.bar.Set(e.Done)
}

// finish ends the bar's line, so the report starts on a line of its own.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}

package condo

import "os"

// SyncDir fsyncs the directory dir, so the entries created, renamed or
// removed in it survive a crash: fsyncing a file makes its contents
// durable but not its name. Every package that creates files (tenant
// databases, media) needs it, hence here, below them all.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

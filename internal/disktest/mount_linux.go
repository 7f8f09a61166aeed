package disktest

import (
	"strconv"
	"syscall"
)

func mount(dir string, size int64) error {
	return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10))
}

func unmount(dir string) {
	if err := syscall.Unmount(dir, 0); err != nil {
		// Something still holds a file there: detach it, so the temporary
		// directory can go; the memory goes with the last holder.
		syscall.Unmount(dir, syscall.MNT_DETACH)
	}
}

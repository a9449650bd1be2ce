//go:build !unix

package storage

import (
	"errors"
	"os"
)

// lockFile cannot tell a live spool from a dead one here: spools of dead
// runs are left alone.
func lockFile(*os.File) (bool, error) { return false, errors.ErrUnsupported }

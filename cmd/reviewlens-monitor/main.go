// Command reviewlens-monitor is the monitor step alone, for a pod image: the
// same flags as reviewlens monitor.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/monitorcmd"
)

func main() { cli.Main(cli.SingleApp(monitorcmd.Step)) }

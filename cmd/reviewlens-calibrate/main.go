// Command reviewlens-calibrate is the calibrate step alone, for a pod
// image: the same flags as reviewlens calibrate.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
)

func main() { cli.Main(cli.SingleApp(creditcmd.CalibrateStep)) }

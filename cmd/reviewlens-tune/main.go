// Command reviewlens-tune is the tune step alone, for a pod image: the same
// flags as reviewlens tune.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
)

func main() { cli.Main(cli.SingleApp(tunecmd.Step)) }

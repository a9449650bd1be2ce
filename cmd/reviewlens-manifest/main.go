// Command reviewlens-manifest is the manifest step alone, for a pod image:
// the same flags as reviewlens manifest.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
)

func main() { cli.Main(cli.SingleApp(manifestcmd.Step)) }

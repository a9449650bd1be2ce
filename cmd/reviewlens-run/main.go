// Command reviewlens-run runs one day's inspection from a YAML config:
// stage, transform, predictions, credit and publish (see reviewlens run).
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/runcmd"
)

func main() { cli.Main(cli.SingleApp(runcmd.Step)) }

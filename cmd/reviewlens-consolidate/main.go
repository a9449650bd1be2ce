// Command reviewlens-consolidate is the consolidate step alone, for a pod
// image: the same flags as reviewlens consolidate.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/consolidatecmd"
)

func main() { cli.Main(cli.SingleApp(consolidatecmd.Step)) }

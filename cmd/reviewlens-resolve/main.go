// Command reviewlens-resolve is the resolve step alone, for a pod image: the
// same flags as reviewlens resolve.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/resolvecmd"
)

func main() { cli.Main(cli.SingleApp(resolvecmd.Step)) }

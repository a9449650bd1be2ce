// Command reviewlens-stage is the stage step alone, for a pod image: the
// same flags as reviewlens stage.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
)

func main() { cli.Main(cli.SingleApp(stagecmd.Step)) }

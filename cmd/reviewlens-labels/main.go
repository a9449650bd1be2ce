// Command reviewlens-labels is the labels step alone, for a pod image: the
// same flags as reviewlens labels.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/labelscmd"
)

func main() { cli.Main(cli.SingleApp(labelscmd.Step)) }

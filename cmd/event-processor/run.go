package main

import "io"

func runCommand(args []string, stdout, stderr io.Writer) int {
	panic("not implemented")
}

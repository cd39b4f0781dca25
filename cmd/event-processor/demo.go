package main

import "io"

func demoCommand(args []string, stdout, stderr io.Writer) int {
	panic("not implemented")
}

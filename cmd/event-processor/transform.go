package main

import "io"

func transformCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	panic("not implemented")
}

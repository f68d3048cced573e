package doccheck

import (
	"strings"
	"testing"
)

func TestUnmarkedFigures(t *testing.T) {
	doc := "# Intake\n\n" +
		"A node accepts 2.21x <!-- fig ratio --> geth's rate and **1.69x** <!-- fig batched --> batched.\n" +
		"It waited 4.73 ms for an answer, 30% of the time, and 2x as long as geth;\n" +
		"with **12.5 MB** of memory.\n" +
		"Not figures: `--latency 50.5ms`, 21000 x price, 0x1234, 0xf39Fd6e5, version 1.17.10, Go (1.26), 1 s slots, 10,000 ether, 2/3 of the stake.\n" +
		"```sh\n./chaind bench tx --rate 1.5x 2.5s\n```\n"
	var got []string
	for _, err := range Unmarked("README.md", doc) {
		got = append(got, err.Error())
	}
	want := []string{
		"README.md:4: figure 4.73ms has no `<!-- fig ID -->` marker naming its record",
		"README.md:4: figure 30% has no `<!-- fig ID -->` marker naming its record",
		"README.md:4: figure 2x has no `<!-- fig ID -->` marker naming its record",
		"README.md:5: figure 12.5MB has no `<!-- fig ID -->` marker naming its record",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

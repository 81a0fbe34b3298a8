# Plot of sim.c's data: victim launch latency and PSP use against N.
set terminal pngcairo size 1100,450 font ",10"
set output outfile
set multiplot layout 1,2 title "Seed experiment, simulated with the real core"
set logscale y
set xlabel "antagonist VMs (N)"
set ylabel "victim launch latency, p99 (ms)"
set xtics ("0" 1, "4" 2, "16" 3, "64" 4, "256" 5, "1024" 6)
set key top left
plot for [p in "a b c d"] datafile using (int($0) % 6 + 1):(strcol(1) eq p ? $4 : 1/0) \
	with linespoints title (p eq "a" ? "no limit" : p eq "b" ? "per-VM 1/s (seed)" : p eq "c" ? "per-VM + parent 100/s" : "same, antagonists retry in 10 ms")
unset logscale y
set ylabel "polite VM: longest wait for a request (s)"
set yrange [0:*]
plot for [p in "a b c d"] datafile using (int($0) % 6 + 1):(strcol(1) eq p ? $8 : 1/0) \
	with linespoints title (p eq "a" ? "no limit" : p eq "b" ? "per-VM 1/s (seed)" : p eq "c" ? "per-VM + parent 100/s" : "same, antagonists retry in 10 ms")
unset multiplot

# pdl.test's count: the __global__ kernels of a kernels.cu, those that wait
# for the launch before them (a kiln::pdlEnter(); in their body, or a split
# attention call whose Early template argument - the one before Cluster, the
# last - is true: the library waits),
# and the early ones among them. Exit 1 when a kernel does not wait.
import re
import sys

src = open(sys.argv[1]).read()
bodies = src.split("__global__ void")[1:]
early = re.compile(r"kvAttentionSplit(With)?<[^>(]*, true, (true|false)>\(")
waits = sum(1 for b in bodies if "kiln::pdlEnter();" in b or early.search(b))
n_early = sum(1 for b in bodies if early.search(b))
print("kernels", len(bodies), "waits", waits, "early", n_early)
sys.exit(len(bodies) == 0 or waits != len(bodies))

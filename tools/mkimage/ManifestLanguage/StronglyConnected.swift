/// Tarjan's strongly connected components, iterative so deep dependency chains cannot overflow the stack.
enum StronglyConnected {
    static func components(count: Int, successors: (Int) -> [Int]) -> [[Int]] {
        var index = Array(repeating: -1, count: count)
        var lowLink = Array(repeating: 0, count: count)
        var onStack = Array(repeating: false, count: count)
        var stack: [Int] = []
        var result: [[Int]] = []
        var nextIndex = 0
        for root in 0..<count where index[root] < 0 {
            // Each frame: node and the position of the next successor to visit.
            var frames: [(node: Int, next: Int, successors: [Int])] = [(root, 0, successors(root))]
            index[root] = nextIndex
            lowLink[root] = nextIndex
            nextIndex += 1
            stack.append(root)
            onStack[root] = true
            while var frame = frames.popLast() {
                if frame.next < frame.successors.count {
                    let w = frame.successors[frame.next]
                    frame.next += 1
                    frames.append(frame)
                    if index[w] < 0 {
                        index[w] = nextIndex
                        lowLink[w] = nextIndex
                        nextIndex += 1
                        stack.append(w)
                        onStack[w] = true
                        frames.append((w, 0, successors(w)))
                    } else if onStack[w] {
                        lowLink[frame.node] = min(lowLink[frame.node], index[w])
                    }
                    continue
                }
                let v = frame.node
                if lowLink[v] == index[v] {
                    var scc: [Int] = []
                    while let w = stack.popLast() {
                        onStack[w] = false
                        scc.append(w)
                        if w == v { break }
                    }
                    result.append(scc.sorted())
                }
                if let parent = frames.last {
                    lowLink[parent.node] = min(lowLink[parent.node], lowLink[v])
                }
            }
        }
        return result
    }
}

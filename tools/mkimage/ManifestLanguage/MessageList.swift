/// A list inside a message, cut after a few items so a message stays one readable line however many
/// candidates there are: "'a', 'b', 'c' and 97 more". Only the items shown are formatted.
enum MessageList {
    static let maxItems = 8

    static func join<C: Collection>(_ items: C, _ format: (C.Element) -> String) -> String {
        let shown = items.prefix(maxItems).map(format).joined(separator: ", ")
        return items.count > maxItems ? shown + " and \(items.count - maxItems) more" : shown
    }
}

/// Human output: a pahole-like table per struct, and compiler-style diagnostics for `--check`.
public enum TextReport {
    /// ```
    /// struct Demo2 {                          // demo.swift:3:8
    ///     var a: Int8                          /*  0   1 */
    ///     /* 3-byte hole */
    ///     var c: Int32                         /*  4   4 */
    ///     var b: Int16                         /*  8   2 */
    ///     /* size: 10, align: 4, stride: 12, tail padding: 2, padding: 5 */
    ///     /* best order: c, b, a -> size 7, stride 8 (saves 4 bytes per value) */
    /// }
    /// ```
    public static func table(_ r: StructReport) -> String {
        var out = "struct \(r.name) {"
        out = pad(out, 44) + "// \(r.file):\(r.line):\(r.column)\n"
        let keyword = r.language == .swift ? "var " : ""
        for f in r.fields {
            if let hole = f.paddingBefore, hole > 0 { out += "    /* \(hole)-byte hole */\n" }
            let decl = "    \(keyword)\(f.name)\(r.language == .swift ? ":" : "") \(f.type)"
            if let o = f.offset, let s = f.size {
                out += pad(decl, 44) + "/* " + lpad(String(o), 5) + " " + lpad(String(s), 5) + " */\n"
            } else if let why = f.unknown {
                out += pad(decl, 44) + "/* unknown: \(why) */\n"
            } else {
                out += pad(decl, 44) + "/*     ?     ? */\n"
            }
        }
        if let size = r.size, let align = r.alignment, let stride = r.stride {
            if let tail = r.trailingPadding, tail > 0, r.language == .swift {
                out += "    /* \(tail)-byte tail padding (in stride, not size) */\n"
            } else if let tail = r.trailingPadding, tail > 0 {
                out += "    /* \(tail)-byte tail padding */\n"
            }
            var summary = "size: \(size), align: \(align), stride: \(stride), padding: \(r.paddingBytes ?? 0)"
            if let pb = r.pointerBytes { summary += ", pointer bytes: \(pb)" }
            out += "    /* \(summary) */\n"
            if let waste = r.wastedBytes, waste > 0, let order = r.optimalOrder {
                let how = r.optimalExact == true ? "best order" : "better order (heuristic)"
                var line = "\(how): \(order.joined(separator: ", ")) -> size \(r.optimalSize!), stride \(r.optimalStride!)"
                line += " (saves \(waste) byte\(waste == 1 ? "" : "s") per value)"
                out += "    /* \(line) */\n"
            } else if r.canScanLess, let order = r.optimalOrder, let now = r.pointerBytes, let best = r.optimalPointerBytes {
                out += "    /* better order: \(order.joined(separator: ", ")) -> pointer bytes \(best) (the GC scans \(now - best) fewer bytes) */\n"
            }
        } else {
            out += "    /* layout unknown: \(r.unknown ?? "") */\n"
        }
        return out + "}\n"
    }

    /// `file:line:col: warning: ...` for a struct whose stride could shrink, or (Go) whose pointer bytes could.
    public static func diagnostic(_ r: StructReport) -> String {
        if !r.canShrink {
            return "\(r.file):\(r.line):\(r.column): warning: struct \(r.name) with \(r.pointerBytes!) pointer bytes could have "
                + "\(r.optimalPointerBytes!); reorder fields: " + r.optimalOrder!.joined(separator: ", ")
        }
        return "\(r.file):\(r.line):\(r.column): warning: struct \(r.name) has stride \(r.stride!) but could have "
            + "\(r.optimalStride!) (\(r.wastedBytes!) bytes wasted per value); reorder fields: "
            + r.optimalOrder!.joined(separator: ", ")
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
    private static func lpad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}

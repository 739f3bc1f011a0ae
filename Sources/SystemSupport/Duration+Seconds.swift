extension Duration {
    /// The duration in seconds, as a Double (for interval parameters and rates).
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

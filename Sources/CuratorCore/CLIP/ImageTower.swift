/// A vision tower's forward pass over a batch of preprocessed images: CLIP's
/// (`CLIPVisionTransformer`) or SigLIP's (`SigLIPVisionTransformer`).
/// One instance runs one batch at a time.
protocol ImageTower: AnyObject, Sendable {
    /// The most images one `run` takes.
    var capacity: Int { get }
    /// The bytes of workspace the tower holds.
    var workspaceBytes: Int { get }
    /// Embeds `count` images (≤ `capacity`) whose normalised pixels lie at
    /// `pixels` (each 3 × imageSize × imageSize, channel-major) and writes
    /// `count` unit vectors to `output`.
    func run(pixels: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>)
}

extension CLIPVisionTransformer: ImageTower {}

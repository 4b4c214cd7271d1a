import Foundation

/// What went wrong loading or running a CLIP model: a missing model folder,
/// a damaged weights file, a configuration the encoder does not support, or a
/// tensor of the wrong shape. The message names the file, the field or tensor,
/// and the problem, so a user can fix it without reading code, e.g.
/// `model.safetensors: tensor 'visual_projection.weight' has shape [512, 64], expected [512, 768]`.
public struct CLIPError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The broad class of problem, for callers that react differently to each.
    public enum Kind: String, Sendable {
        /// The model folder or one of its required files is not there.
        case modelMissing
        /// A file exists but cannot be opened or read.
        case unreadable
        /// A file has the right kind but is damaged (truncated, bad offsets, bad JSON).
        case corrupt
        /// The file is valid but describes something the encoder does not run.
        case unsupported
        /// A tensor the model needs is absent.
        case missingTensor
        /// A tensor is present with the wrong shape or dtype.
        case wrongShape
    }

    /// The broad class of problem.
    public let kind: Kind
    /// Where: a file path, optionally followed by the tensor or field.
    public let location: String
    /// What is wrong, in words.
    public let problem: String

    /// Creates an error about `location`.
    public init(_ kind: Kind, _ location: String, _ problem: String) {
        self.kind = kind
        self.location = location
        self.problem = problem
    }

    public var description: String { location.isEmpty ? problem : "\(location): \(problem)" }
    public var errorDescription: String? { description }
}

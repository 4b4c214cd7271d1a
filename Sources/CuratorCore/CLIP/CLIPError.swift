import Foundation

/// What went wrong loading or running a CLIP model: a missing model folder,
/// a damaged weights file, a configuration the encoder does not support, or a
/// tensor of the wrong shape. The message names the file, the field or tensor,
/// and the problem, so a user can fix it without reading code, e.g.
/// `model.safetensors: tensor 'visual_projection.weight' has shape [512, 64], expected [512, 768]`.
public typealias CLIPError = CuratorError<CLIPErrorKind>

/// The broad class of problem, for callers that react differently to each.
public enum CLIPErrorKind: String, Sendable {
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

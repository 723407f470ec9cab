import Testing

@testable import PodCtlKit

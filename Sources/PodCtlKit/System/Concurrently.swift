import Glibc

/// Runs blocking bodies side by side, each on a thread of its own, and returns when all
/// have (podctl debug follows a container's stdout and stderr at once). The first error
/// thrown is rethrown.
func concurrently(_ bodies: [@Sendable () throws -> Void]) throws {
    final class Job: @unchecked Sendable {
        let body: @Sendable () throws -> Void
        var error: Error?
        init(_ body: @escaping @Sendable () throws -> Void) { self.body = body }
    }
    let jobs = bodies.map(Job.init)
    var threads: [pthread_t] = []
    for job in jobs.dropFirst() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(job).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let job = Unmanaged<Job>.fromOpaque(argument).takeRetainedValue()
            do { try job.body() } catch { job.error = error }
            return nil
        }, box)
        if created == 0 {
            threads.append(thread)
        } else {
            Unmanaged<Job>.fromOpaque(box).release()
            do { try job.body() } catch { job.error = error }
        }
    }
    if let first = jobs.first {
        do { try first.body() } catch { first.error = error }
    }
    for thread in threads { pthread_join(thread, nil) }
    if let error = jobs.compactMap(\.error).first { throw error }
}

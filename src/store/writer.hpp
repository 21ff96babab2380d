#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace onboard::store {

class Store;

// Runs one piece of work on a Store at a time, on a thread of its own, so that its caller (the
// run's network loop) never waits for SQLite or a WAL sync. While work runs the caller must not
// touch the Store; once collect() returned it may again. Not thread-safe itself: one owner thread
// starts and collects.
class Writer {
public:
    // `on_done` is called on the writer's thread each time work ends (to wake the owner's wait).
    Writer(Store& store, std::function<void()> on_done);
    ~Writer(); // waits for work in progress; its error is dropped
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Starts `work` on the writer's thread. Precondition: not busy().
    void start(std::function<void(Store&)> work);
    // Started and not yet collected.
    bool busy() const { return m_busy; }
    // The work started has ended: collect() will not wait.
    bool finished() const;
    // Waits for the work started to end; rethrows what it threw. No-op when not busy().
    void collect();

private:
    void serve();

    Store& m_store;
    std::function<void()> m_on_done;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::function<void(Store&)> m_work; // set while waiting for the thread to take it
    bool m_running = false;             // the thread is running work
    bool m_stop = false;
    std::exception_ptr m_error;
    bool m_busy = false; // owner's view: started, not collected
    std::thread m_thread;
};

} // namespace onboard::store

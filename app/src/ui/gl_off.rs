//! Keeps the window process off OpenGL on Linux: a form app needs no GPU compositing, and
//! under a software GL (Mesa llvmpipe: Xvfb, a VM, a thin client) every process that opens
//! EGL maps libLLVM and the Mesa driver, ~49 MB of resident pages.
//!
//! Two steps, both skipped when the user asked for GL (`WEBKIT_DISABLE_COMPOSITING_MODE=0`):
//!
//! 1. GTK and WebKit are told not to composite with GL ([`NO_GL_ENV`]), unless the user set
//!    the variable already.
//! 2. WebKit's main (UI) process still opens EGL when it starts its web process, only to query
//!    what the GPU offers, which it never uses with compositing off. [`hide_egl_from_this_process`]
//!    makes the EGL dispatcher (libglvnd) of *this* process settle on "no vendor" once: it
//!    sets `__EGL_VENDOR_LIBRARY_FILENAMES` to an empty list, makes one EGL call (libglvnd reads
//!    the variable once, on its first call), then restores the variable. The web process,
//!    started later from the restored environment, keeps its EGL: hiding EGL from every
//!    process leaves a blank page (measured: no web process).
//!
//! Measured with tests/window/bench_cold_start.sh (release, Xvfb, median of 5): window process
//! RSS at first render 169 MB with GL, 159 MB after step 1, 110 MB after step 2 (116 MB after
//! 2 s idle); the window test's screenshots are unchanged and it checks step 2 holds.

/// Variables that keep GTK and WebKitGTK off OpenGL.
pub const NO_GL_ENV: [(&str, &str); 3] = [
    ("GDK_GL", "disable"),
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
];

/// libglvnd's list of vendor files; a path that names no file means "no vendor".
const EGL_VENDOR_LIST: &str = "__EGL_VENDOR_LIBRARY_FILENAMES";

/// Applies both steps. Must run first thing in `main`'s thread, before any other thread exists
/// (it changes the environment) and before GTK or WebKit start.
pub fn apply() {
    for (name, value) in NO_GL_ENV {
        if std::env::var_os(name).is_none() {
            // SAFETY: see `apply`'s contract: no other thread exists yet, so nothing reads
            // the environment meanwhile.
            unsafe { std::env::set_var(name, value) };
        }
    }
    let compositing_off =
        std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some_and(|v| v == "1");
    if compositing_off && let Err(e) = hide_egl_from_this_process() {
        // Not fatal: the window works with EGL too, it only costs memory.
        tracing::debug!("EGL left visible to the window process: {e}");
    }
}

/// Makes this process's libglvnd settle on no EGL vendor; the environment is left as it was.
fn hide_egl_from_this_process() -> Result<(), libloading::Error> {
    const EGL_EXTENSIONS: i32 = 0x3055;
    type QueryString = unsafe extern "C" fn(*mut std::ffi::c_void, i32) -> *const std::ffi::c_char;
    let previous = std::env::var_os(EGL_VENDOR_LIST);
    // SAFETY: no other thread exists yet (see `apply`).
    unsafe { std::env::set_var(EGL_VENDOR_LIST, "/nonexistent/balade-no-egl-vendor.json") };
    // SAFETY: libEGL.so.1 is the system's EGL dispatcher (WebKitGTK links it, so it is loaded
    // anyway); eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS) has no precondition, and its
    // result (a static string or null) is not read.
    let result = unsafe {
        libloading::Library::new("libEGL.so.1").and_then(|egl| {
            let query = egl.get::<QueryString>(b"eglQueryString\0")?;
            query(std::ptr::null_mut(), EGL_EXTENSIONS);
            // Stays loaded: libglvnd keeps its (empty) vendor list for the process's life.
            std::mem::forget(egl);
            Ok(())
        })
    };
    match previous {
        // SAFETY: as above.
        Some(value) => unsafe { std::env::set_var(EGL_VENDOR_LIST, value) },
        None => unsafe { std::env::remove_var(EGL_VENDOR_LIST) },
    }
    result
}

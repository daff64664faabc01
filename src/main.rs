fn main() {
    println!("rvbpf: under construction");
}

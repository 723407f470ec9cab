from outcome import Outcome
def run(scale, tar):
    return Outcome('disk_full')
